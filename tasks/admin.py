from django.contrib import admin
from django.http import HttpRequest

from .models import Attachment, Comment, Event, Membership, Project, Task


class MembershipInline(admin.TabularInline[Membership, Project]):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ["id", "name", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]
    raw_id_fields = ["created_by"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Task]):
    list_display = ["id", "title", "project", "status", "priority", "assignee", "version"]
    list_filter = ["status", "priority"]
    search_fields = ["title"]
    raw_id_fields = ["project", "assignee", "created_by"]
    list_select_related = ["project", "assignee"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    list_display = ["id", "task", "author", "created_at"]
    raw_id_fields = ["task", "author"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin[Attachment]):
    list_display = ["id", "name", "task", "content_type", "size", "state"]
    raw_id_fields = ["task", "uploaded_by"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    """The log is append-only: staff may read it, never edit it."""

    list_display = ["id", "type", "project", "task_id", "actor", "created_at"]
    list_filter = ["type"]
    raw_id_fields = ["project", "actor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False
