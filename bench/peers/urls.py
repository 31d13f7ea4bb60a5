from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView
from strawberry.django.views import GraphQLView as StrawberryView

from . import drf_peer, graphene_peer, plain, strawberry_peer


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("healthz", healthz),
    path("plain/graphql-tasks", plain.graphql_tasks),
    path("plain/rest-tasks", plain.rest_tasks),
    path("graphene/graphql", csrf_exempt(GraphQLView.as_view(schema=graphene_peer.schema))),
    path("strawberry/graphql", csrf_exempt(StrawberryView.as_view(schema=strawberry_peer.schema))),
    path("drf/tasks", drf_peer.TaskList.as_view()),
]
