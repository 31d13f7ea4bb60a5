"""The baselines `make bench` measures TaskHub against, in the same run, served the same way (one
uvicorn worker on the same database): what a user would otherwise write.

- `plain`: Django with no middleware and no authentication, `values()` + `JsonResponse` (the floor);
- `graphene_peer`: graphene-django `DjangoObjectType`s, optimised as its docs show
  (`select_related` / `Prefetch` in the root resolver);
- `strawberry_peer`: strawberry-django with its `DjangoOptimizerExtension`;
- `drf_peer`: DRF `ModelSerializer`s over `select_related` / `Prefetch`.

Every endpoint answers the same JSON as TaskHub's for the same request; `bench.peers.check`
asserts it before anything is timed."""
