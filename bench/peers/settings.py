"""The peers' site: TaskHub's settings (same database, same models), but no middleware, no
authentication and its own URLs. Served only by the benchmark."""

from project.settings import *  # noqa: F403

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "oauth2_provider",
    "rest_framework",
    "graphene_django",
    "strawberry_django",
    "tasks",
]
MIDDLEWARE = []
ROOT_URLCONF = "bench.peers.urls"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
GRAPHENE = {"SCHEMA": "bench.peers.graphene_peer.schema", "MIDDLEWARE": []}
