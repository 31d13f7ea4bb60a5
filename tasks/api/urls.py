"""REST routes: every endpoint under /api/v1/ and /api/v2/, plus the OpenAPI schema and docs."""

from __future__ import annotations

from django.urls import include, path, re_path

from .docs import ApiRedocView, ApiSchemaView, ApiSwaggerView
from .views.attachments import AttachmentDetailView, AttachmentDownloadView, TaskAttachmentListView
from .views.changes import ChangesHeadView, ChangesView
from .views.comments import CommentDetailView, TaskCommentListView
from .views.me import MeView
from .views.projects import (
    ActivityView,
    MemberDetailView,
    MemberListView,
    ProjectDetailView,
    ProjectListView,
)
from .views.tasks import TaskDetailView, TaskListView
from .views.webhooks import (
    DeliveryDetailView,
    DeliveryRedeliverView,
    ProjectWebhookListView,
    WebhookDeliveryListView,
    WebhookDetailView,
)

versioned = [
    path("me/", MeView.as_view(), name="api-me"),
    path("projects/", ProjectListView.as_view(), name="api-project-list"),
    path("projects/<int:pk>/", ProjectDetailView.as_view(), name="api-project-detail"),
    path("projects/<int:pk>/members/", MemberListView.as_view(), name="api-project-members"),
    path(
        "projects/<int:pk>/members/<int:user_id>/",
        MemberDetailView.as_view(),
        name="api-project-member-detail",
    ),
    path("projects/<int:pk>/activity/", ActivityView.as_view(), name="api-project-activity"),
    path("tasks/", TaskListView.as_view(), name="api-task-list"),
    path("tasks/<int:pk>/", TaskDetailView.as_view(), name="api-task-detail"),
    path("tasks/<int:pk>/comments/", TaskCommentListView.as_view(), name="api-task-comments"),
    path("comments/<int:pk>/", CommentDetailView.as_view(), name="api-comment-detail"),
    path(
        "tasks/<int:pk>/attachments/", TaskAttachmentListView.as_view(), name="api-task-attachments"
    ),
    path("attachments/<int:pk>/", AttachmentDetailView.as_view(), name="api-attachment-detail"),
    path(
        "attachments/<int:pk>/download/",
        AttachmentDownloadView.as_view(),
        name="api-attachment-download",
    ),
    path(
        "projects/<int:pk>/webhooks/", ProjectWebhookListView.as_view(), name="api-project-webhooks"
    ),
    path("webhooks/<int:pk>/", WebhookDetailView.as_view(), name="api-webhook-detail"),
    path(
        "webhooks/<int:pk>/deliveries/",
        WebhookDeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
    path("deliveries/<int:pk>/", DeliveryDetailView.as_view(), name="api-delivery-detail"),
    path(
        "deliveries/<int:pk>/redeliver/",
        DeliveryRedeliverView.as_view(),
        name="api-delivery-redeliver",
    ),
]

# Only in v2 (delta sync came after v1 was frozen).
v2_only = [
    path("projects/<int:pk>/changes/", ChangesView.as_view(), name="api-project-changes"),
    path(
        "projects/<int:pk>/changes/head/",
        ChangesHeadView.as_view(),
        name="api-project-changes-head",
    ),
]

urlpatterns = [
    re_path(r"^(?P<version>v1|v2)/", include(versioned)),
    re_path(r"^(?P<version>v2)/", include(v2_only)),
    path("schema/", ApiSchemaView.as_view(), name="api-schema"),
    path("docs/", ApiSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", ApiRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
