"""The domain's tables. Business rules live in `tasks.services`, not here."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from .search import SearchDocumentField
from .text import validate_display_text


class CurrentTransactionId(models.Func):
    """The writing transaction's id on PostgreSQL (`pg_current_xact_id()`: the top-level one,
    even inside a savepoint); NULL elsewhere. Used as a column's database default, so every
    INSERT gets it, whatever wrote the row, and Django reads it back with RETURNING."""

    template = "NULL"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "pg_current_xact_id()::text::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    name = models.CharField(max_length=120, validators=[validate_display_text])
    description = models.TextField(max_length=2000, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    # Foreign keys that lead a composite index or constraint get no index of their own (here and
    # below): the composite serves their lookups, and a second index is one more write per row
    # (tests/tasks/test_indexes.py).
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user"),
        ]
        indexes = [models.Index(fields=["user", "project"], name="membership_user_idx")]
        ordering = ["joined_at", "id"]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.project_id} as {self.role}"


class Task(models.Model):
    class Status(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    title = models.CharField(max_length=200, validators=[validate_display_text])
    description = models.TextField(max_length=10_000, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TODO)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Title and description folded for search (tasks.search); trigram-indexed on PostgreSQL.
    search_text = SearchDocumentField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "status"], name="task_project_status_idx"),
            models.Index(fields=["project", "-updated_at"], name="task_project_updated_idx"),
            models.Index(fields=["project", "-created_at"], name="task_project_created_idx"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


# Severity order for sorting: LOW < MEDIUM < HIGH < URGENT (not alphabetical).
PRIORITY_RANK = {
    Task.Priority.LOW: 1,
    Task.Priority.MEDIUM: 2,
    Task.Priority.HIGH: 3,
    Task.Priority.URGENT: 4,
}


class Comment(models.Model):
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="comments", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=5000, validators=[validate_display_text])
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["task", "created_at"], name="comment_task_created_idx")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.task_id}"


class Attachment(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="attachments", db_index=False
    )
    file = models.FileField(upload_to="attachments/", max_length=255)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["task", "uploaded_at"], name="attachment_task_idx")]
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """The append-only activity log. Its id is the cursor for replay and the activity feed."""

    class Type(models.TextChoices):
        TASK_CREATED = "task.created"
        TASK_UPDATED = "task.updated"
        TASK_DELETED = "task.deleted"
        COMMENT_CREATED = "comment.created"
        COMMENT_UPDATED = "comment.updated"
        COMMENT_DELETED = "comment.deleted"
        ATTACHMENT_ADDED = "attachment.added"
        ATTACHMENT_PROCESSED = "attachment.processed"
        ATTACHMENT_DELETED = "attachment.deleted"
        MEMBER_ADDED = "member.added"
        MEMBER_REMOVED = "member.removed"
        PROJECT_UPDATED = "project.updated"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    # The event's place in its project's log: 1, 2, 3... with no gaps, assigned in the change's
    # transaction under the project's log row lock (ProjectLog), so per project it is also commit
    # order, which the global `id` is not on PostgreSQL (ids are taken before commit).
    seq = models.PositiveBigIntegerField()
    # A plain id, not a foreign key: the `task.deleted` event outlives its task.
    task_id = models.IntegerField(null=True, blank=True)
    type = models.CharField(max_length=32, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # On PostgreSQL, the transaction that wrote the event, so a log position can tell whether it
    # had committed at that moment (tasks.continuity.LogPosition). The column's default sets it
    # in the INSERT itself (no round trip of its own), also for a writer that does not know the
    # column (an older release during a rolling deploy). Null on SQLite, whose writers take turns.
    xact_id = models.BigIntegerField(
        null=True, blank=True, editable=False, db_default=CurrentTransactionId()
    )

    class Meta:
        indexes = [
            models.Index(fields=["project", "id"], name="event_project_id_idx"),
            models.Index(fields=["task_id", "id"], name="event_task_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="event_project_seq_unique"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class ProjectLog(models.Model):
    """Where a project's event log stands: the last `seq` handed out, and the last one pruned.

    One row per project, written by an upsert in the transaction of every change (tasks.events),
    so concurrent writers to one project take their sequence numbers in commit order. A client's
    position `p` can be replayed completely while `p >= pruned_seq` (tasks.retention).
    """

    project = models.OneToOneField(
        Project, primary_key=True, on_delete=models.CASCADE, related_name="log"
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    pruned_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"log of project {self.project_id} at {self.last_seq}"


class OutboxEntry(models.Model):
    """An event committed with its change and not yet dispatched (tasks.outbox): the change's
    transaction writes it, the dispatcher deletes it once the event is sent. `claim` and
    `available_at` form a lease: a dispatcher owns the entry until `available_at`, after which a
    sweeper may take it again. Only undispatched events have a row, so the table stays small and
    the sweeper's scan (by `available_at`) reads a handful of rows, not the event log."""

    event = models.OneToOneField(
        Event, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    available_at = models.DateTimeField()
    claim = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["available_at"], name="outbox_available_idx")]

    def __str__(self) -> str:
        return f"Outbox entry of event #{self.pk}"


# --- Outgoing webhooks (tasks.webhooks, tasks.webhook_delivery) -----------------------------------


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Webhook(models.Model):
    """A project's subscription to its events. `event_types` empty means every type. The signing
    secret is stored encrypted (tasks.webhook_signing); the server disables a webhook after
    repeated failed deliveries, recording when and why."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="webhooks", db_index=False
    )
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    encrypted_secret = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["project", "active"], name="webhook_project_active_idx")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Webhook {self.pk} -> {self.url}"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one webhook. `message_id` is the `webhook-id` header: stable across retries
    and redeliveries, so receivers can deduplicate. A redelivery starts a new `sequence` of
    attempts; `attempt_count` counts the attempts started in the current sequence."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=32)
    message_id = models.CharField(max_length=40, unique=True, default=_message_id)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    sequence = models.PositiveIntegerField(default=1)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["webhook", "-id"], name="delivery_webhook_idx"),
            # The outbox sweeper's scan (tasks.webhook_delivery.schedule_overdue): pending only.
            models.Index(
                fields=["created_at"],
                condition=models.Q(state="pending"),
                name="delivery_pending_idx",
            ),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Delivery {self.message_id} of {self.event_type}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, kept for the delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    sequence = models.PositiveIntegerField()
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Attempt {self.sequence}.{self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
