"""The role table of API.md ("Who may do what"), service by service, for every role. A non-member
and an unknown id both get NotFound (existence is not leaked); a member lacking the role gets
PermissionDenied; a refused call changes nothing and records no event."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from tasks import services
from tasks.errors import NotFound, PermissionDenied
from tasks.models import Attachment, Comment, Event, Membership, Project, Role, Task
from tasks.permissions import Action, can, can_delete_own_or_any, can_grant
from tests.factories import UserFactory, acquaint, make_task

from .conftest import make_attachment

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "viewer"]
UNKNOWN_ID = 999_999
CORE_ACTIONS = {
    Action.VIEW,
    Action.CONTRIBUTE,
    Action.MODERATE,
    Action.MANAGE_MEMBERS,
    Action.MANAGE_PROJECT,
}


def user(request: pytest.FixtureRequest, role: str) -> Any:
    return request.getfixturevalue(role)


def refused(call: Any, error: type[Exception]) -> None:
    """The call raises `error` and records no event."""
    before = Event.objects.count()
    with pytest.raises(error):
        call()
    assert Event.objects.count() == before


# --- The policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {Action.VIEW}),
        (Role.MEMBER, {Action.VIEW, Action.CONTRIBUTE}),
        (
            Role.ADMIN,
            {Action.VIEW, Action.CONTRIBUTE, Action.MODERATE, Action.MANAGE_MEMBERS},
        ),
        (Role.OWNER, CORE_ACTIONS),
    ],
)
def test_each_role_may_do_exactly_its_actions(role, allowed):
    assert {action for action in CORE_ACTIONS if can(role, action)} == allowed


def test_no_role_may_do_nothing():
    assert not any(can(None, action) for action in Action)
    assert not can_grant(None, Role.VIEWER)
    assert not can_delete_own_or_any(None, is_own=True)


@pytest.mark.parametrize(
    ("role", "grantable"),
    [
        (Role.OWNER, {Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER}),
        (Role.ADMIN, {Role.MEMBER, Role.VIEWER}),
        (Role.MEMBER, set()),
        (Role.VIEWER, set()),
    ],
)
def test_only_owners_make_admins_and_owners(role, grantable):
    assert {target for target in Role if can_grant(role, target)} == grantable


@pytest.mark.parametrize(
    ("role", "own", "other"),
    [
        (Role.OWNER, True, True),
        (Role.ADMIN, True, True),
        (Role.MEMBER, True, False),
        (Role.VIEWER, False, False),
    ],
)
def test_contributors_delete_their_own_admins_anything(role, own, other):
    assert can_delete_own_or_any(role, is_own=True) is own
    assert can_delete_own_or_any(role, is_own=False) is other


# --- Projects ------------------------------------------------------------------------------------


def test_any_user_creates_a_project_and_becomes_its_owner(outsider):
    project = services.project_create(actor=outsider, name="Mine")
    assert Membership.objects.get(project=project, user=outsider).role == Role.OWNER


def test_an_anonymous_user_cannot_create_a_project():
    refused(lambda: services.project_create(actor=AnonymousUser(), name="x"), PermissionDenied)
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("owner", None), ("admin", PermissionDenied), ("member", PermissionDenied),
     ("viewer", PermissionDenied), ("outsider", NotFound)],
)  # fmt: skip
def test_project_update_is_for_owners(request, project, role, outcome):
    def call():
        return services.project_update(
            actor=user(request, role), project_id=project.pk, changes={"name": "Renamed"}
        )

    if outcome is None:
        assert call().name == "Renamed"
    else:
        refused(call, outcome)
        project.refresh_from_db()
        assert project.name == "Apollo"


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("owner", None), ("admin", PermissionDenied), ("member", PermissionDenied),
     ("viewer", PermissionDenied), ("outsider", NotFound)],
)  # fmt: skip
def test_project_delete_is_for_owners(request, project, role, outcome):
    def call():
        return services.project_delete(actor=user(request, role), project_id=project.pk)

    if outcome is None:
        assert call() == project.pk
        assert not Project.objects.filter(pk=project.pk).exists()
    else:
        refused(call, outcome)
        assert Project.objects.filter(pk=project.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_unknown_project_ids_are_not_found_for_everyone(request, project, role):
    actor = user(request, role)
    for bad_id in (UNKNOWN_ID, "nope", None, 10**30):
        with pytest.raises(NotFound):
            services.project_update(actor=actor, project_id=bad_id, changes={"name": "x"})
        with pytest.raises(NotFound):
            services.project_delete(actor=actor, project_id=bad_id)
        with pytest.raises(NotFound):
            services.task_create(actor=actor, project_id=bad_id, title="x")
        with pytest.raises(NotFound):
            services.member_add(actor=actor, project_id=bad_id, username="oscar", role="member")
        with pytest.raises(NotFound):
            services.member_remove(actor=actor, project_id=bad_id, user_id=actor.pk)


# --- Members -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "target_role", "outcome"),
    [
        ("owner", "owner", None),
        ("owner", "admin", None),
        ("owner", "member", None),
        ("owner", "viewer", None),
        ("admin", "owner", PermissionDenied),
        ("admin", "admin", PermissionDenied),
        ("admin", "member", None),
        ("admin", "viewer", None),
        ("member", "viewer", PermissionDenied),
        ("viewer", "viewer", PermissionDenied),
        ("outsider", "viewer", NotFound),
    ],
)
def test_member_add_follows_the_role_table(request, project, role, target_role, outcome):
    newcomer = UserFactory(username="nina")
    acquaint(user(request, role), newcomer)  # someone the actor already works with

    def call():
        return services.member_add(
            actor=user(request, role), project_id=project.pk, username="nina", role=target_role
        )

    if outcome is None:
        assert call().role == target_role
    else:
        refused(call, outcome)
        assert not Membership.objects.filter(project=project, user=newcomer).exists()


@pytest.mark.parametrize(
    ("role", "target", "outcome"),
    [
        ("owner", "admin", None),
        ("owner", "viewer", None),
        ("admin", "member", None),
        ("admin", "viewer", None),
        ("admin", "owner", PermissionDenied),
        ("member", "viewer", PermissionDenied),
        ("viewer", "member", PermissionDenied),
        ("outsider", "viewer", NotFound),
    ],
)
def test_member_remove_follows_the_role_table(request, project, role, target, outcome):
    target_user = user(request, target)

    def call():
        return services.member_remove(
            actor=user(request, role), project_id=project.pk, user_id=target_user.pk
        )

    if outcome is None:
        assert call().user == target_user
        assert not Membership.objects.filter(project=project, user=target_user).exists()
    else:
        refused(call, outcome)
        assert Membership.objects.filter(project=project, user=target_user).exists()


def test_an_admin_cannot_change_an_admins_role(project, admin):
    other_admin = UserFactory(username="alma")
    Membership.objects.create(project=project, user=other_admin, role=Role.ADMIN)
    refused(
        lambda: services.member_add(
            actor=admin, project_id=project.pk, username="alma", role="member"
        ),
        PermissionDenied,
    )
    assert Membership.objects.get(project=project, user=other_admin).role == Role.ADMIN


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_anyone_may_leave_a_project(request, project, role):
    leaver = user(request, role)
    services.member_remove(actor=leaver, project_id=project.pk, user_id=leaver.pk)
    assert not Membership.objects.filter(project=project, user=leaver).exists()


def test_removing_a_user_who_is_not_a_member_is_not_found(project, owner, outsider):
    for user_id in (outsider.pk, UNKNOWN_ID, "x", None, 10**30, True):
        refused(
            lambda user_id=user_id: services.member_remove(
                actor=owner, project_id=project.pk, user_id=user_id
            ),
            NotFound,
        )


# --- Tasks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("owner", None), ("admin", None), ("member", None), ("viewer", PermissionDenied),
     ("outsider", NotFound)],
)  # fmt: skip
def test_task_create_is_for_members_and_up(request, project, role, outcome):
    def call():
        return services.task_create(actor=user(request, role), project_id=project.pk, title="T")

    if outcome is None:
        assert call().project == project
    else:
        refused(call, outcome)
        assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("owner", None), ("admin", None), ("member", None), ("viewer", PermissionDenied),
     ("outsider", NotFound)],
)  # fmt: skip
def test_task_update_is_for_members_and_up(request, task, owner, role, outcome):
    other = make_task(task.project, owner, title="Someone else's")

    def call():
        return services.task_update(
            actor=user(request, role), task_id=other.pk, changes={"title": "Changed"}
        )

    if outcome is None:
        assert call().title == "Changed"
    else:
        refused(call, outcome)
        other.refresh_from_db()
        assert (other.title, other.version) == ("Someone else's", 1)


@pytest.mark.parametrize(
    ("role", "own", "outcome"),
    [
        ("owner", False, None),
        ("admin", False, None),
        ("member", True, None),
        ("member", False, PermissionDenied),
        ("viewer", False, PermissionDenied),
        ("outsider", False, NotFound),
    ],
)
def test_task_delete_own_for_members_any_for_admins(request, project, owner, role, own, outcome):
    actor = user(request, role)
    task = make_task(project, actor if own else owner, title="Doomed")

    def call():
        return services.task_delete(actor=actor, task_id=task.pk)

    if outcome is None:
        assert call() == task.pk
        assert not Task.objects.filter(pk=task.pk).exists()
    else:
        refused(call, outcome)
        assert Task.objects.filter(pk=task.pk).exists()


def test_a_demoted_author_may_no_longer_delete_their_task(project, member):
    task = make_task(project, member)
    Membership.objects.filter(project=project, user=member).update(role=Role.VIEWER)
    refused(lambda: services.task_delete(actor=member, task_id=task.pk), PermissionDenied)


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_unknown_task_ids_are_not_found(request, task, role):
    actor = user(request, role)
    for bad_id in (UNKNOWN_ID, "abc", None, -1, 10**30):
        with pytest.raises(NotFound):
            services.task_update(actor=actor, task_id=bad_id, changes={"title": "x"})
        with pytest.raises(NotFound):
            services.task_delete(actor=actor, task_id=bad_id)
        with pytest.raises(NotFound):
            services.comment_add(actor=actor, task_id=bad_id, body="x")
        with pytest.raises(NotFound):
            services.comment_update(actor=actor, comment_id=bad_id, body="x")
        with pytest.raises(NotFound):
            services.comment_delete(actor=actor, comment_id=bad_id)
        with pytest.raises(NotFound):
            services.attachment_delete(actor=actor, attachment_id=bad_id)


# --- Comments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("owner", None), ("admin", None), ("member", None), ("viewer", PermissionDenied),
     ("outsider", NotFound)],
)  # fmt: skip
def test_comment_add_is_for_members_and_up(request, task, role, outcome):
    def call():
        return services.comment_add(actor=user(request, role), task_id=task.pk, body="Hi")

    if outcome is None:
        assert call().body == "Hi"
    else:
        refused(call, outcome)
        assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("owner", PermissionDenied), ("admin", PermissionDenied), ("member", None),
     ("viewer", PermissionDenied), ("outsider", NotFound)],
)  # fmt: skip
def test_only_the_author_edits_a_comment(request, comment, role, outcome):
    def call():
        return services.comment_update(
            actor=user(request, role), comment_id=comment.pk, body="Edited"
        )

    if outcome is None:
        assert call().body == "Edited"
    else:
        refused(call, outcome)
        comment.refresh_from_db()
        assert comment.body == "First!"


def test_a_viewer_cannot_edit_their_old_comment(project, comment, member):
    Membership.objects.filter(project=project, user=member).update(role=Role.VIEWER)
    refused(
        lambda: services.comment_update(actor=member, comment_id=comment.pk, body="x"),
        PermissionDenied,
    )


@pytest.mark.parametrize(
    ("role", "author", "outcome"),
    [
        ("owner", "member", None),
        ("admin", "member", None),
        ("member", "member", None),
        ("member", "admin", PermissionDenied),
        ("viewer", "member", PermissionDenied),
        ("outsider", "member", NotFound),
    ],
)
def test_comment_delete_own_for_authors_any_for_admins(request, task, role, author, outcome):
    comment = services.comment_add(actor=user(request, author), task_id=task.pk, body="x")

    def call():
        return services.comment_delete(actor=user(request, role), comment_id=comment.pk)

    if outcome is None:
        assert call() == comment.pk
        assert not Comment.objects.filter(pk=comment.pk).exists()
    else:
        refused(call, outcome)
        assert Comment.objects.filter(pk=comment.pk).exists()


# --- Attachments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "uploader", "outcome"),
    [
        ("owner", "member", None),
        ("admin", "member", None),
        ("member", "member", None),
        ("member", "admin", PermissionDenied),
        ("viewer", "member", PermissionDenied),
        ("outsider", "member", NotFound),
    ],
)
def test_attachment_delete_own_for_uploaders_any_for_admins(
    request, media_root, task, role, uploader, outcome
):
    attachment = make_attachment(task, user(request, uploader))

    def call():
        return services.attachment_delete(actor=user(request, role), attachment_id=attachment.pk)

    if outcome is None:
        assert call() == attachment.pk
        assert not Attachment.objects.filter(pk=attachment.pk).exists()
    else:
        refused(call, outcome)
        assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_a_non_member_cannot_tell_a_hidden_object_from_a_missing_one(
    task, comment, attachment, outsider
):
    """The same error, with the same message, as for an id that never existed."""
    pairs = [
        (lambda i: services.task_update(actor=outsider, task_id=i, changes={}), task.pk),
        (lambda i: services.comment_delete(actor=outsider, comment_id=i), comment.pk),
        (lambda i: services.attachment_delete(actor=outsider, attachment_id=i), attachment.pk),
        (lambda i: services.project_delete(actor=outsider, project_id=i), task.project_id),
    ]
    for call, real_id in pairs:
        with pytest.raises(NotFound) as hidden:
            call(real_id)
        with pytest.raises(NotFound) as missing:
            call(UNKNOWN_ID)
        assert str(hidden.value) == str(missing.value)
