"""The comment-page loader's hand-written SQL (graph/dataloaders.py `_comment_page_rows`) reads
what the ORM reads: the same comments, in the same order, with the same typed values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from graph.dataloaders import COMMENT_FIELDS, Loaders
from tasks.models import Comment, Task


@pytest.mark.parametrize(("offset", "limit"), [(0, 3), (2, 2), (0, 10), (6, 5)])
def test_a_page_of_comments_is_what_the_orm_reads(
    project: Any, owner: Any, member: Any, offset: int, limit: int
) -> None:
    tasks = Task.objects.bulk_create(
        Task(project=project, title=f"T{i}", created_by=owner) for i in range(3)
    )
    Comment.objects.bulk_create(
        Comment(task=task, author=[owner, member, None][n % 3], body=f"{task.title} {n}")
        for task in tasks[:2]
        for n in range(7)
    )
    Comment.objects.filter(body="T0 1").update(edited_at=datetime(2030, 1, 2, 3, 4, 5, 6, UTC))
    loaders = Loaders(owner)
    loaders.task_ids.update(task.pk for task in tasks)

    for task in tasks:
        page = loaders.comment_page(task.pk, offset, limit)
        expected = list(
            Comment.objects.filter(task=task)
            .select_related("author")
            .order_by("created_at", "id")[offset : offset + limit]
        )
        assert [[getattr(c, name) for name in COMMENT_FIELDS] for c in page] == [
            [getattr(c, name) for name in COMMENT_FIELDS] for c in expected
        ]
        assert [(c.author.username, c.author.last_name) if c.author else None for c in page] == [
            (c.author.username, c.author.last_name) if c.author else None for c in expected
        ]
        assert all(isinstance(c.created_at, datetime) for c in page)  # converted, not text
