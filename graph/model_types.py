"""The base of every model-backed object type: graphene-django's `DjangoObjectType`, plus one Meta
option, `descriptions`, for the fields its converters build.

graphene-django takes a converted field's description from the model field's `help_text`. The
domain's models carry none, and giving them some would be a migration and would also change the
REST OpenAPI document, whose wording is the REST adapter's; the GraphQL wording (which speaks of
`expectedVersion`, global IDs, ...) belongs to this adapter. So each type lists its converted
fields in `Meta.fields` and describes them in `Meta.descriptions`, next to each other.

Choice fields are not turned into graphene-django's generated enums (`TasksTaskStatusChoices`):
the public enums are the ones of `graph.enums`, declared explicitly on the fields that use them.

The types register in `REGISTRY`, not graphene-django's global registry: that one is shared by
every `DjangoObjectType` of the process (the benchmark's graphene-django peer schema, say), caches
each model field's converted field (so one schema's `convert_choices_to_enum` leaked into the
other's) and maps a model to the last type registered for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import copy
from typing import Any

import graphene
from graphene_django import DjangoObjectType
from graphene_django.registry import Registry

REGISTRY = Registry()


class ModelObjectType(DjangoObjectType):
    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(
        cls,
        descriptions: Mapping[str, str] | None = None,
        convert_choices_to_enum: bool = False,
        registry: Registry | None = None,
        **options: Any,
    ) -> None:
        super().__init_subclass_with_meta__(
            convert_choices_to_enum=convert_choices_to_enum,
            registry=registry or REGISTRY,
            **options,
        )
        fields = cls._meta.fields
        for name, text in (descriptions or {}).items():
            if not isinstance(fields.get(name), graphene.Field):
                # A relation is a `Dynamic` until the schema is built: declare it explicitly.
                raise TypeError(f"{cls.__name__}.Meta.descriptions: {name!r} is no plain field.")
            described = copy(fields[name])  # converted fields may be shared through the registry
            described.description = text
            fields[name] = described

    # graphene's default resolver reads `id` like every other column (graphene-django's
    # `resolve_id` returns `self.pk`, the same value through a method call per object). Measured
    # on the benchmark query at `first: 50`: with graphene-django's, each of the ~600 ids of a
    # response took graphql-core's general field path instead of graph/execution.py's leaf plan,
    # 24% more function calls per request.
    resolve_id = None
