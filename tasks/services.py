"""Every change to the domain enters here: one keyword-only function per action, taking the actor
first, owning its transaction, its permission check and its Event, and returning the instance
(or, for a deletion, the deleted id)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Field, Sum
from django.utils import timezone

from . import events, search, uploads
from .errors import FieldError, NotFound, PermissionDenied, ValidationError
from .models import Attachment, Comment, Membership, Project, Role, Task
from .permissions import Action, can, can_delete_own_or_any, can_grant
from .selectors import (
    attachment_get,
    comment_and_role,
    is_storable_id,
    project_and_role,
    role_of,
    task_and_role,
)

PROJECT_FIELDS = frozenset({"name", "description"})
_PROJECT_NAME = Project._meta.get_field("name")
_TASK_TITLE = Task._meta.get_field("title")
_COMMENT_BODY = Comment._meta.get_field("body")
TASK_FIELDS = frozenset({"title", "description", "status", "priority", "due_date", "assignee_id"})


# --- Validation helpers ---------------------------------------------------------------------------


class _Errors:
    """Collects every problem with an input before raising, so a client sees them all at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str | None, code: str, message: str) -> None:
        self.items.append(FieldError(field, code, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)


def _text(
    errors: _Errors,
    field: str,
    value: object,
    *,
    max_length: int,
    required: bool,
    strip: bool,
    model_field: Field[Any, Any] | None = None,
) -> str:
    """`model_field`: the model field whose validators (tasks.text) the value must also pass."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, "invalid", f"{field} must be a string.")
        return ""
    if "\x00" in value:
        errors.add(field, "invalid", f"{field} must not contain NUL characters.")
        return ""
    cleaned = value.strip() if strip else value
    if required and not cleaned.strip():
        errors.add(field, "required", f"{field} is required.")
    elif len(cleaned) > max_length:
        errors.add(field, "too_long", f"{field} must be at most {max_length} characters.")
    elif model_field is not None:
        try:
            model_field.run_validators(cleaned)
        except DjangoValidationError as exc:
            for error in exc.error_list:
                errors.add(field, error.code or "invalid", f"{field} {error.message}")
    return cleaned


def _choice(errors: _Errors, field: str, value: object, choices: type[Any]) -> str:
    if isinstance(value, str) and value in choices.values:
        return str(value)  # the plain value of a Choices member too: the instance keeps it as is
    allowed = ", ".join(choices.values)
    errors.add(field, "invalid_choice", f"{field} must be one of: {allowed}.")
    return ""


def _due_date(errors: _Errors, value: object) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    errors.add("due_date", "invalid", "due_date must be a date.")
    return None


def _require(role: str | None, action: Action) -> None:
    if not can(role, action):
        raise PermissionDenied()


def _locked_task(actor: User, task_id: object) -> tuple[Task, str | None]:
    """The task, locked for the transaction, and the actor's role in its project: one query
    (see `task_and_role`). NotFound for non-members, who lock nothing."""
    return task_and_role(actor, task_id, lock=True)


def _check_assignee(errors: _Errors, project_id: int, assignee_id: object) -> User | None:
    """The user `assignee_id` names, a member of the project; None for None (unassigned) and for
    an invalid one (with the error added). Loaded whole: the task's events and answers show it."""
    if assignee_id is None:
        return None
    if not isinstance(assignee_id, int | str) or isinstance(assignee_id, bool):
        errors.add("assignee_id", "invalid", "assignee_id must be a user id.")
        return None
    try:
        user_id = int(assignee_id)
    except (TypeError, ValueError, OverflowError):
        errors.add("assignee_id", "invalid", "assignee_id must be a user id.")
        return None
    user = None
    if is_storable_id(user_id):
        members = get_user_model().objects.filter(memberships__project_id=project_id)
        user = members.filter(pk=user_id).first()
    if user is None:
        errors.add("assignee_id", "not_a_member", "The assignee must be a member of the project.")
    return user


def _check_version(expected_version: object, current: int) -> None:
    if expected_version is None:
        return
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        raise ValidationError.single("expected_version", "invalid", "expected_version is a number.")
    if expected_version != current:
        raise ValidationError.single(
            "expected_version",
            "conflict",
            f"The task was changed by someone else (now at version {current}).",
        )


def _unknown_fields(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(
            [FieldError(name, "unknown_field", f"{name} cannot be changed.") for name in unknown]
        )


# --- Projects -------------------------------------------------------------------------------------


def project_create(*, actor: User, name: object, description: object = "") -> Project:
    if not actor.is_authenticated:  # an AnonymousUser slipping through an adapter
        raise PermissionDenied("Log in to create a project.")
    errors = _Errors()
    clean_name = _text(
        errors, "name", name, max_length=120, required=True, strip=True, model_field=_PROJECT_NAME
    )
    clean_description = _text(
        errors, "description", description, max_length=2000, required=False, strip=False
    )
    errors.raise_if_any()
    with transaction.atomic():
        project = Project.objects.create(
            name=clean_name, description=clean_description, created_by=actor
        )
        membership = Membership.objects.create(project=project, user=actor, role=Role.OWNER)
        events.member_added(actor, membership)
    return project


def project_update(*, actor: User, project_id: object, changes: Mapping[str, Any]) -> Project:
    _unknown_fields(changes, PROJECT_FIELDS)
    with transaction.atomic():
        project, role = project_and_role(actor, project_id, lock=True)
        _require(role, Action.MANAGE_PROJECT)
        errors = _Errors()
        cleaned: dict[str, Any] = {}
        if "name" in changes:
            cleaned["name"] = _text(
                errors,
                "name",
                changes["name"],
                max_length=120,
                required=True,
                strip=True,
                model_field=_PROJECT_NAME,
            )
        if "description" in changes:
            cleaned["description"] = _text(
                errors,
                "description",
                changes["description"],
                max_length=2000,
                required=False,
                strip=False,
            )
        errors.raise_if_any()
        changed = [name for name, value in cleaned.items() if getattr(project, name) != value]
        if not changed:
            return project
        for name in changed:
            setattr(project, name, cleaned[name])
        project.save(update_fields=[*changed, "updated_at"])
        events.project_updated(actor, project, changed)
    return project


def project_delete(*, actor: User, project_id: object) -> int:
    """Deletes the project with its tasks, comments, attachments and event log. The log goes with
    it, so no event is recorded; subscribers learn of it when their stream ends."""
    with transaction.atomic():
        project, role = project_and_role(actor, project_id)
        _require(role, Action.MANAGE_PROJECT)
        deleted_id = project.pk
        files = list(
            Attachment.objects.filter(task__project=project).values_list("file", flat=True)
        )
        project.delete()
        transaction.on_commit(lambda: _delete_files(files))
    return deleted_id


# --- Members --------------------------------------------------------------------------------------


def _addable_user(actor: User, username: str, *, consented: bool) -> User | None:
    """The active user called `username` whom `actor` may add to a project without asking them:
    someone who already shares a project with the actor (they accepted working with them), or
    anyone but a superuser when the actor is site staff (who provision accounts), anyone at all
    for a superuser. None otherwise, whether or not such a username exists: the answer must not
    tell an outsider which usernames exist (README, Security: adding members)."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        return None
    if consented or actor.is_superuser or (actor.is_staff and not user.is_superuser):
        return user
    shares_a_project = Membership.objects.filter(
        user=user, project_id__in=Membership.objects.filter(user=actor).values("project_id")
    ).exists()
    return user if shares_a_project else None


def member_add(
    *, actor: User, project_id: object, username: object, role: object, consented: bool = False
) -> Membership:
    """Adds a user, or changes the role of one who is already a member. Only users the actor
    already works with can be added (`_addable_user`), unless `consented`: the person agreed
    outside the API, which only operator tooling (seed_demo) can know; transports never pass it."""
    with transaction.atomic():
        project, actor_role = project_and_role(actor, project_id)
        _require(actor_role, Action.MANAGE_MEMBERS)
        errors = _Errors()
        clean_role = _choice(errors, "role", role, Role)
        user = None
        if not isinstance(username, str) or not username.strip():
            errors.add("username", "required", "username is required.")
        else:
            user = _addable_user(actor, username.strip(), consented=consented)
            if user is None:
                errors.add("username", "not_found", "No user you can add has this username.")
        errors.raise_if_any()
        assert user is not None
        if not can_grant(actor_role, clean_role):
            raise PermissionDenied("Only an owner can grant this role.")
        existing = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if existing is not None:
            if not can_grant(actor_role, existing.role):
                raise PermissionDenied("Only an owner can change an admin's or owner's role.")
            if existing.role == clean_role:
                return existing
            if existing.role == Role.OWNER:
                _ensure_another_owner(project.pk, user.pk)
            existing.role = clean_role
            existing.save(update_fields=["role"])
            membership = existing
        else:
            membership = Membership.objects.create(project=project, user=user, role=clean_role)
        events.member_added(actor, membership)
    return membership


def member_remove(*, actor: User, project_id: object, user_id: object) -> Membership:
    """Removes a member; anyone may leave, admins remove members and viewers, owners anyone but
    the last owner. Returns the removed (unsaved) membership."""
    with transaction.atomic():
        project, actor_role = project_and_role(actor, project_id)
        try:
            target_id = int(str(user_id))
        except (TypeError, ValueError, OverflowError):
            raise NotFound("member") from None
        if not is_storable_id(target_id):
            raise NotFound("member")
        membership = (
            Membership.objects.select_for_update()
            .select_related("user")
            .filter(project=project, user_id=target_id)
            .first()
        )
        if membership is None:
            raise NotFound("member")
        leaving = target_id == actor.pk
        if not leaving:
            _require(actor_role, Action.MANAGE_MEMBERS)
            if not can_grant(actor_role, membership.role):
                raise PermissionDenied("Only an owner can remove an admin or owner.")
        if membership.role == Role.OWNER:
            _ensure_another_owner(project.pk, target_id)
        membership.delete()
        membership.project_id = project.pk
        events.member_removed(actor, membership)
        _unassign_removed_member(actor, project.pk, target_id)
    return membership


def _unassign_removed_member(actor: User, project_id: int, user_id: int) -> None:
    """An assignee must be a member: the removed user's tasks become unassigned, each a change of
    its own (new version, one `task.updated` event)."""
    assigned = Task.objects.select_for_update().filter(project_id=project_id, assignee_id=user_id)
    now = timezone.now()
    for task_id, version in assigned.values_list("pk", "version"):
        Task.objects.filter(pk=task_id).update(
            assignee_id=None, version=version + 1, updated_at=now
        )
        task = Task.objects.select_related("project", "assignee", "created_by").get(pk=task_id)
        events.task_updated(actor, task, ["assignee"])


def _ensure_another_owner(project_id: int, user_id: int) -> None:
    others = Membership.objects.filter(project_id=project_id, role=Role.OWNER).exclude(
        user_id=user_id
    )
    if not others.exists():
        raise ValidationError.single(
            "role", "last_owner", "A project needs an owner; make someone else owner first."
        )


# --- Tasks ----------------------------------------------------------------------------------------


def task_create(
    *,
    actor: User,
    project_id: object,
    title: object,
    description: object = "",
    status: object = Task.Status.TODO,
    priority: object = Task.Priority.MEDIUM,
    due_date: object = None,
    assignee_id: object = None,
) -> Task:
    with transaction.atomic():
        project, role = project_and_role(actor, project_id)
        _require(role, Action.CONTRIBUTE)
        errors = _Errors()
        task = Task(
            project=project,
            title=_text(
                errors,
                "title",
                title,
                max_length=200,
                required=True,
                strip=True,
                model_field=_TASK_TITLE,
            ),
            description=_text(
                errors, "description", description, max_length=10_000, required=False, strip=False
            ),
            status=_choice(errors, "status", status, Task.Status),
            priority=_choice(errors, "priority", priority, Task.Priority),
            due_date=_due_date(errors, due_date),
            assignee=_check_assignee(errors, project.pk, assignee_id),
            created_by=actor,
        )
        errors.raise_if_any()
        if task.status == Task.Status.DONE:
            task.completed_at = timezone.now()
        # save() fills in the id, the timestamps and search_text; the project, the assignee and
        # the creator are the objects above: nothing to read back.
        task.save()
        events.task_created(actor, task)
    return task


def task_update(
    *,
    actor: User,
    task_id: object,
    changes: Mapping[str, Any],
    expected_version: object = None,
) -> Task:
    """Applies `changes` (a subset of TASK_FIELDS). With `expected_version`, a task changed since
    then is left alone and `conflict` is raised: optimistic concurrency, made safe against races by
    the row lock (PostgreSQL) and a compare-and-set on the version (everywhere)."""
    _unknown_fields(changes, TASK_FIELDS)
    with transaction.atomic():
        task, role = _locked_task(actor, task_id)
        _require(role, Action.CONTRIBUTE)
        _check_version(expected_version, task.version)
        errors = _Errors()
        cleaned: dict[str, Any] = {}
        if "title" in changes:
            cleaned["title"] = _text(
                errors,
                "title",
                changes["title"],
                max_length=200,
                required=True,
                strip=True,
                model_field=_TASK_TITLE,
            )
        if "description" in changes:
            cleaned["description"] = _text(
                errors,
                "description",
                changes["description"],
                max_length=10_000,
                required=False,
                strip=False,
            )
        if "status" in changes:
            cleaned["status"] = _choice(errors, "status", changes["status"], Task.Status)
        if "priority" in changes:
            cleaned["priority"] = _choice(errors, "priority", changes["priority"], Task.Priority)
        if "due_date" in changes:
            cleaned["due_date"] = _due_date(errors, changes["due_date"])
        assignee = None
        if "assignee_id" in changes:
            assignee = _check_assignee(errors, task.project_id, changes["assignee_id"])
            cleaned["assignee_id"] = assignee.pk if assignee is not None else None
        errors.raise_if_any()

        changed = [name for name, value in cleaned.items() if getattr(task, name) != value]
        if not changed:
            return task
        now = timezone.now()
        values = {name: cleaned[name] for name in changed}
        if "status" in changed:
            values["completed_at"] = now if cleaned["status"] == Task.Status.DONE else None
        if "title" in changed or "description" in changed:
            # update() skips the field's pre_save, as it skips auto_now: set it here.
            values["search_text"] = search.document(
                cleaned.get("title", task.title), cleaned.get("description", task.description)
            )
        updated = Task.objects.filter(pk=task.pk, version=task.version).update(
            **values, version=task.version + 1, updated_at=now
        )
        if updated != 1:
            raise ValidationError.single(
                "expected_version", "conflict", "The task was changed by someone else."
            )
        # The compare-and-set matched the version read above and every write to a task raises
        # its version (the row is locked besides: FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on
        # SQLite), so the row now is what was read plus `values`. Set those on the instance
        # rather than read it back: one query and its ORM work less per update.
        for name, value in values.items():
            setattr(task, name, value)
        if "assignee_id" in changed:
            task.assignee = assignee
        task.version += 1
        task.updated_at = now
        events.task_updated(actor, task, [_api_field(name) for name in changed])
    return task


def _api_field(name: str) -> str:
    return {"due_date": "dueDate", "assignee_id": "assignee"}.get(name, name)


def task_delete(*, actor: User, task_id: object, expected_version: object = None) -> int:
    with transaction.atomic():
        task, role = _locked_task(actor, task_id)
        if not can_delete_own_or_any(role, is_own=task.created_by_id == actor.pk):
            raise PermissionDenied()
        _check_version(expected_version, task.version)
        deleted_id = task.pk
        events.task_deleted(actor, task)
        files = list(task.attachments.values_list("file", flat=True))
        task.delete()
        transaction.on_commit(lambda: _delete_files(files))
    return deleted_id


# --- Comments -------------------------------------------------------------------------------------


def _comment_body(body: object) -> str:
    errors = _Errors()
    clean = _text(
        errors, "body", body, max_length=5000, required=True, strip=True, model_field=_COMMENT_BODY
    )
    errors.raise_if_any()
    return clean


def comment_add(*, actor: User, task_id: object, body: object) -> Comment:
    with transaction.atomic():
        task, role = task_and_role(actor, task_id, joined=False)
        _require(role, Action.CONTRIBUTE)
        clean_body = _comment_body(body)
        comment = Comment.objects.create(task=task, author=actor, body=clean_body)
        events.comment_created(actor, comment)
    return comment


def comment_update(*, actor: User, comment_id: object, body: object) -> Comment:
    with transaction.atomic():
        comment, role = comment_and_role(actor, comment_id)
        if comment.author_id != actor.pk or not can(role, Action.CONTRIBUTE):
            raise PermissionDenied("Only the author can edit a comment.")
        clean_body = _comment_body(body)
        if clean_body == comment.body:
            return comment
        comment.body = clean_body
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "edited_at"])
        events.comment_updated(actor, comment)
    return comment


def comment_delete(*, actor: User, comment_id: object) -> int:
    with transaction.atomic():
        comment, role = comment_and_role(actor, comment_id)
        if not can_delete_own_or_any(role, is_own=comment.author_id == actor.pk):
            raise PermissionDenied()
        deleted_id = comment.pk
        events.comment_deleted(actor, comment)
        comment.delete()
    return deleted_id


# --- Attachments ----------------------------------------------------------------------------------


def attachment_add(*, actor: User, task_id: object, file: Any, name: object = None) -> Attachment:
    """Stores an uploaded file (a Django `File`/`UploadedFile`) on a task; MEMBER and above.

    Everything about the bytes is checked before they are stored (`uploads.check_upload`: codes
    `required`, `invalid_name`, `too_large`, `unsupported_type`, `type_mismatch`,
    `invalid_image`), the project quota (`quota_exceeded`) again under a lock on the project.
    The file goes to storage under a random key first; if the row is not committed it is removed.
    The sha256 was computed while the upload streamed in (`uploads.hashing`), so the answer
    carries it with or without a worker; after the commit `jobs.process_attachment` does the
    derived work only (for images: the size and a thumbnail) and marks the attachment processed."""
    task, role = task_and_role(actor, task_id, joined=False)
    _require(role, Action.CONTRIBUTE)
    checked = uploads.check_upload(file, name=name)
    digest = uploads.sha256_of_upload(file)
    _check_quota(task.project_id, checked.size)
    key = uploads.storage.save_upload(task.project_id, file)
    try:
        with transaction.atomic():
            task, role = _locked_task(actor, task.pk)
            _require(role, Action.CONTRIBUTE)
            # Uploads to one project take turns here, so two cannot both fit the last of a quota.
            Project.objects.select_for_update().only("pk").get(pk=task.project_id)
            _check_quota(task.project_id, checked.size)
            attachment = Attachment.objects.create(
                task=task,
                file=key,
                name=checked.name,
                size=checked.size,
                content_type=checked.content_type,
                sha256=digest,
                uploaded_by=actor,
            )
            events.attachment_added(actor, attachment)
            attachment_id = attachment.pk
            # robust: a broker outage must not turn a committed upload into an error.
            transaction.on_commit(lambda: _enqueue_processing(attachment_id), robust=True)
    except BaseException:
        uploads.storage.delete_stored([key])
        raise
    attachment.refresh_from_db()  # processing may already have run (Celery eager)
    return attachment


def _check_quota(project_id: int, size: int) -> None:
    quota = int(settings.ATTACHMENT_PROJECT_QUOTA_BYTES)
    used = Attachment.objects.filter(task__project_id=project_id).aggregate(total=Sum("size"))
    if (used["total"] or 0) + size > quota:
        raise ValidationError.single(
            "file", "quota_exceeded", f"The project's attachments may not exceed {quota} bytes."
        )


def _enqueue_processing(attachment_id: int) -> None:
    from .jobs import process_attachment  # jobs import the domain, not the other way round

    process_attachment.delay(attachment_id)


def attachment_delete(*, actor: User, attachment_id: object) -> int:
    with transaction.atomic():
        attachment = attachment_get(actor, attachment_id)
        role = role_of(actor, attachment.task.project_id)
        if not can_delete_own_or_any(role, is_own=attachment.uploaded_by_id == actor.pk):
            raise PermissionDenied()
        deleted_id = attachment.pk
        events.attachment_deleted(actor, attachment)
        file_name = attachment.file.name or ""
        attachment.delete()
        transaction.on_commit(lambda: _delete_files([file_name]))
    return deleted_id


def _delete_files(names: list[str]) -> None:
    """Runs after commit: a rolled-back deletion keeps its files."""
    uploads.storage.delete_stored(names)  # with their thumbnails


__all__ = [
    "NotFound",
    "PermissionDenied",
    "ValidationError",
    "attachment_add",
    "attachment_delete",
    "comment_add",
    "comment_delete",
    "comment_update",
    "member_add",
    "member_remove",
    "project_create",
    "project_delete",
    "project_update",
    "task_create",
    "task_delete",
    "task_update",
]
