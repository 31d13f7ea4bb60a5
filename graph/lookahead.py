"""What a query selects below the field being resolved, so a list resolver can join in one SQL
query the relations its nodes will read (`select_related`) instead of a batch loader's query.

An over-approximation by design: fields under `@skip`/`@include` count as selected, and every
fragment counts whatever its type condition. Joining a relation nobody reads costs a join; not
joining one that is read costs the loader's query, never a wrong answer (resolvers use a joined
object when there is one, `graph.types._related`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode


def _fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, Any]
) -> Iterator[FieldNode]:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:  # validation refused unknown and cyclic fragments
                yield from _fields(fragment.selection_set, fragments)


def selected(info: Any, *path: str) -> frozenset[str]:
    """The field names (not aliases) selected at `path` below the resolved field, e.g.
    `selected(info, "edges", "node")` on a connection field."""
    fragments = info.fragments
    nodes: list[FieldNode] = list(info.field_nodes)
    for name in path:
        nodes = [f for node in nodes for f in _fields(node.selection_set, fragments)
                 if f.name.value == name]  # fmt: skip
    return frozenset(f.name.value for node in nodes for f in _fields(node.selection_set, fragments))
