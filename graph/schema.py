"""The GraphQL schema. Placeholder until the GraphQL issue lands its types."""

import graphene


class Query(graphene.ObjectType):
    ok = graphene.Boolean(required=True, description="Always true.")

    @staticmethod
    def resolve_ok(root: object, info: graphene.ResolveInfo) -> bool:
        return True


schema = graphene.Schema(query=Query)
