"""`Project.changesCursor`: where each project's event log stands, batch-loaded (one query for
every project of a response, however many), for a client about to fetch state it will keep in
sync with `changes(since:)`. Kept apart from `graph.changes` so `graph.types` can use it without
importing the `Changes` type, which is built from `graph.types`."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from tasks import changes

from .context import loaders
from .dataloaders import BatchLoader, Loaders

_HEADS: WeakKeyDictionary[Loaders, BatchLoader[int, int]] = WeakKeyDictionary()


def changes_cursor(info: Any, project_id: int) -> str:
    """The head cursor of a project the viewer can see (the caller resolved it as one)."""
    batch = loaders(info)
    heads = _HEADS.get(batch)
    if heads is None:
        heads = _HEADS[batch] = BatchLoader(changes.heads, batch.project_ids, 0)
    return changes.encode_cursor(project_id, heads.load(project_id))
