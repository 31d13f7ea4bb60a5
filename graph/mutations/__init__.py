"""The mutation root: one thin adapter per service function, split by concept."""

import graphene


class Mutation(graphene.ObjectType):
    pass
