"""Task search: one behaviour on every database.

A task's title and description are folded once, when they are written, into `Task.search_text`
(lower case, accents and compatibility forms removed: `Éléphant ﬁx` -> `elephant fix`). A search
splits what was typed on whitespace, folds each word the same way, and requires every word as a
substring of that column (`LIKE '%word%'`, with `%` and `_` escaped by Django).

Why a stored, folded column rather than `icontains` or full-text search:
- Full-text search misses what people type: the English stemmer turns `Running` into `run` (so the
  prefix `runn` misses), and neither the English nor the `simple` parser can match inside a token
  (`29621e` in `ws-29621e484d`). Only substring matching finds all of it.
- The folding is this Python function on both backends, so SQLite and PostgreSQL compare the very
  same strings: `icontains` folds only ASCII on SQLite, and PostgreSQL's `unaccent` dictionary
  differs from Unicode decomposition (e.g. `ß`, ligatures), so folding in SQL would differ.
- On PostgreSQL the column carries a `pg_trgm` GIN index (migration 0004), which answers
  `LIKE '%word%'` for words of three characters or more; 20,000 tasks: see README "Search".
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db import models

# More words than this are ignored: each one is another LIKE over the index.
MAX_WORDS = 16


def fold(text: str) -> str:
    """Compatibility decomposition (ligatures, full-width and superscript forms), combining marks
    dropped (accents), then Unicode case folding (`ß` -> `ss`)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", stripped.casefold())


def document(title: str, description: str) -> str:
    """What `Task.search_text` holds. The newline keeps a word from running across the two."""
    return fold(f"{title}\n{description}")


def words(text: str) -> list[str]:
    """The folded words of a search, each required; empty when nothing but whitespace was typed."""
    return [word for word in fold(text).split() if word][:MAX_WORDS]


class SearchDocumentField(models.TextField):  # type: ignore[type-arg]
    """`search_text`, computed from the instance's title and description whenever Django writes
    the row: `save()`, `objects.create()` and `bulk_create()` call `pre_save` (as they do for
    `auto_now`). `QuerySet.update()` does not: a service that updates title or description that
    way passes `search_text=document(...)` itself, as it passes `updated_at`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = document(
            getattr(model_instance, "title", "") or "",
            getattr(model_instance, "description", "") or "",
        )
        setattr(model_instance, self.attname, value)
        return value
