"""Every element of the served schema is documented, so GraphiQL's Docs pane is never bare: each
type, field, argument, enum value and input field, the mutations and subscriptions included."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    is_introspection_type,
    is_specified_scalar_type,
)

from graph.schema import schema


def undocumented(served: GraphQLSchema) -> list[str]:
    """The coordinates (`Type.field(arg:)`, `Enum.VALUE`) of every element with no description,
    skipping introspection types and the built-in scalars."""
    missing: list[str] = []
    for name, named in sorted(served.type_map.items()):
        if is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing.extend(
                    f"{name}.{field_name}({arg_name}:)"
                    for arg_name, arg in field.args.items()
                    if not arg.description
                )
        elif isinstance(named, GraphQLInputObjectType):
            missing.extend(
                f"{name}.{field_name}"
                for field_name, field in named.fields.items()
                if not field.description
            )
        elif isinstance(named, GraphQLEnumType):
            missing.extend(
                f"{name}.{value_name}"
                for value_name, value in named.values.items()
                if not value.description
            )
        elif isinstance(named, GraphQLUnionType):
            pass  # a union's members are types, documented on their own
    return missing


def test_every_schema_element_has_a_description() -> None:
    missing = undocumented(schema.graphql_schema)
    assert not missing, f"{len(missing)} schema elements without a description:\n" + "\n".join(
        missing
    )


def test_the_walker_finds_an_undocumented_element() -> None:
    """The check above would catch a bare field, argument or enum value."""
    import graphene

    class Color(graphene.Enum):
        """A color."""

        RED = 1

    class Query(graphene.ObjectType):
        """The root."""

        paint = graphene.Field(Color, shade=graphene.Int())

    bare = graphene.Schema(query=Query).graphql_schema
    assert undocumented(bare) == ["Color.RED", "Query.paint", "Query.paint(shade:)"]
