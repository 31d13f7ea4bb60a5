"""`graph.model_types.ModelObjectType`: graphene-django's `DjangoObjectType` with described
converted fields, the schema's own enums and a registry of its own."""

from __future__ import annotations

import pytest
from graphene_django import DjangoObjectType
from graphene_django.registry import Registry, get_global_registry

from graph.model_types import REGISTRY, ModelObjectType
from graph.types import Attachment, Comment, Membership, Project, Task, User
from graph.webhook_types import Webhook, WebhookAttempt, WebhookDelivery
from tasks import models

MODEL_TYPES = [User, Membership, Project, Task, Comment, Attachment]
MODEL_TYPES += [Webhook, WebhookDelivery, WebhookAttempt]


@pytest.mark.parametrize("model_type", MODEL_TYPES, ids=lambda t: t.__name__)
def test_every_model_type_is_a_django_object_type_with_explicit_fields(model_type: type) -> None:
    assert issubclass(model_type, DjangoObjectType)
    assert model_type._meta.registry is REGISTRY  # type: ignore[attr-defined]
    assert REGISTRY.get_type_for_model(model_type._meta.model) is model_type  # type: ignore[attr-defined]


def test_the_global_registry_holds_none_of_the_products_types_or_conversions() -> None:
    """graphene-django's global registry is shared by every schema of the process (the
    benchmark's peer): it caches each model field's conversion and maps a model to the last type
    registered, so the product keeps out of it."""
    shared = get_global_registry()
    for model_type in MODEL_TYPES:
        assert shared.get_type_for_model(model_type._meta.model) is not model_type  # type: ignore[attr-defined]
    status = models.Task._meta.get_field("status")
    assert REGISTRY.get_converted_field(status) is not None
    assert shared.get_converted_field(status) is not REGISTRY.get_converted_field(status)


def test_descriptions_must_name_a_plain_field() -> None:
    with pytest.raises(TypeError, match="'nope' is no plain field"):

        class Unknown(ModelObjectType):
            class Meta:
                model = models.Comment
                fields = ("body",)
                registry = Registry()
                descriptions = {"nope": "Not a field."}

    with pytest.raises(TypeError, match="'author' is no plain field"):

        class Relation(ModelObjectType):
            class Meta:
                model = models.Comment
                fields = ("author",)
                registry = Registry()
                descriptions = {"author": "A relation is declared explicitly."}


def test_a_described_field_keeps_its_converted_type() -> None:
    class Described(ModelObjectType):
        class Meta:
            model = models.Comment
            fields = ("body", "edited_at")
            registry = Registry()
            descriptions = {"body": "The text.", "edited_at": "When."}

    body, edited_at = Described._meta.fields["body"], Described._meta.fields["edited_at"]
    assert (body.description, str(body.type)) == ("The text.", "String!")
    assert (edited_at.description, str(edited_at.type)) == ("When.", "DateTime")
