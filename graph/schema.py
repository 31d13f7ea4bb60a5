"""The served GraphQL schema (`schema.graphql` is its committed SDL; `make schema` rewrites it)."""

import graphene

from .mutations import Mutation
from .queries import Query
from .subscriptions import Subscription

schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)
