"""The Relay connection types and arguments of this schema, documented.

`graph.pagination` builds the pages; this module only gives its connection class and arguments
the descriptions GraphiQL's Docs pane shows. Model-backed types get their connection through
graphene-django's `connection_class` Meta option (`Task._meta.connection` is `TaskConnection`)."""

from __future__ import annotations

from typing import Any

import graphene

from .pagination import MAX_PAGE_SIZE, CountableConnection, connection_args

PAGE_ARGUMENTS = {
    "first": f"The first n items after `after` (at most {MAX_PAGE_SIZE}).",
    "after": "A cursor (`endCursor`, an edge's `cursor`): only items after it.",
    "last": f"The last n items before `before` (at most {MAX_PAGE_SIZE}).",
    "before": "A cursor (`startCursor`, an edge's `cursor`): only items before it.",
}


class DocumentedConnection(CountableConnection):
    """`CountableConnection` with a description for each connection type and its `totalCount`."""

    class Meta:
        abstract = True

    total_count = graphene.Int(
        required=True, description="How many items the whole list holds, across every page."
    )

    @classmethod
    def __init_subclass_with_meta__(
        cls, node: Any = None, description: str | None = None, **options: Any
    ) -> None:
        # The node type may not be finished yet (graphene-django creates the connection first).
        name = (options.get("name") or cls.__name__).removesuffix("Connection")
        description = description or f"A page of `{name}` items, with cursors to page on."
        super().__init_subclass_with_meta__(node=node, description=description, **options)


def page_arguments(*, backwards: bool = True) -> dict[str, Any]:
    """`graph.pagination.connection_args`, each argument described (kept where it has one)."""
    arguments = connection_args(backwards=backwards)
    for name, argument in arguments.items():
        # An unmounted `graphene.Int(...)` keeps its keyword arguments until it becomes an
        # `Argument` in the schema.
        if not argument.kwargs.get("description"):
            argument.kwargs["description"] = PAGE_ARGUMENTS[name]
    return arguments
