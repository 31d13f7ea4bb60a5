"""Projects, their members and their activity feed."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from tasks import orderings, selectors, services
from tasks.api import inputs
from tasks.api.pagination import KeysetPagination
from tasks.api.serializers import EventSerializer, MembershipSerializer, ProjectSerializer
from tasks.errors import NotFound
from tasks.keyset import Ordering
from tasks.models import Membership

from .base import ApiView


class ProjectViewMixin(ApiView):
    output_serializer = ProjectSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        user = self.request.user
        if user.is_authenticated:
            context["roles"] = dict(
                Membership.objects.filter(user_id=user.pk).values_list("project_id", "role")
            )
        return context


class ProjectListView(ProjectViewMixin):
    input_serializers = {"post": inputs.ProjectCreateInput}
    is_list = True
    page_numbers = True

    def get(self, request: Request, **kwargs: Any) -> Response:
        projects = selectors.visible_projects(request.user).select_related("created_by")
        return self.render_page(projects.order_by("-created_at", "-id"))

    def post(self, request: Request, **kwargs: Any) -> Response:
        project = services.project_create(actor=self.actor, **self.parse())
        location = reverse(
            "api-project-detail",
            kwargs={"version": request.version, "pk": project.pk},
            request=request,
        )
        return self.render(project, 201, Location=location)


class ProjectDetailView(ProjectViewMixin):
    input_serializers = {"patch": inputs.ProjectUpdateInput}

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render(selectors.project_get(request.user, pk))

    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        changes = self.parse(partial=True)
        return self.render(
            services.project_update(actor=self.actor, project_id=pk, changes=changes)
        )

    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        services.project_delete(actor=self.actor, project_id=pk)
        return Response(status=204)


class MemberListView(ApiView):
    output_serializer = MembershipSerializer
    input_serializers = {"post": inputs.MemberAddInput}
    is_list = True
    page_numbers = True

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render_page(
            selectors.project_members(request.user, pk).order_by("joined_at", "id")
        )

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        """Adds a member, or changes the role of one who already is."""
        membership = services.member_add(actor=self.actor, project_id=pk, **self.parse())
        return self.render(membership, 201)


class MemberDetailView(ApiView):
    output_serializer = MembershipSerializer

    def get(self, request: Request, pk: int, user_id: int, **kwargs: Any) -> Response:
        """One membership (what v2's `self` link of a membership points at)."""
        members = selectors.project_members(request.user, pk)
        membership = (
            members.filter(user_id=user_id).first() if selectors.is_storable_id(user_id) else None
        )
        if membership is None:
            raise NotFound("member")
        return self.render(membership)

    def delete(self, request: Request, pk: int, user_id: int, **kwargs: Any) -> Response:
        services.member_remove(actor=self.actor, project_id=pk, user_id=user_id)
        return Response(status=204)


class ActivityView(ApiView):
    """The project's event log, newest first."""

    output_serializer = EventSerializer
    pagination_class = KeysetPagination
    is_list = True

    def get_keyset(self, request: Request) -> Ordering:
        return orderings.newest_first("rest:activity")

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        events = selectors.project_events(request.user, pk).order_by("-id")
        return self.render_page(events)
