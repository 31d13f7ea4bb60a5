from django.contrib import admin
from django.urls import include, path, re_path

from graph.views import graphql_view
from project import health
from project.observability import metrics_view
from project.webapp import app_index

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("graphql", graphql_view, name="graphql"),
    path("api/", include("tasks.api.urls")),
    path("", include("project.oauth.urls")),
    # The web app: index.html for /app/ and each of its client-side routes.
    re_path(r"^app/(?P<path>.*)$", app_index, name="web-app"),
]
