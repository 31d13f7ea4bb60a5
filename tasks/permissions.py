"""The one permission policy: which role may do what (API.md, "Who may do what")."""

from __future__ import annotations

from enum import Enum

from .models import Role


class Action(Enum):
    VIEW = "view"
    CONTRIBUTE = "contribute"  # create and edit tasks and comments, upload
    MODERATE = "moderate"  # delete anyone's task, comment or attachment
    MANAGE_MEMBERS = "manage_members"
    MANAGE_WEBHOOKS = "manage_webhooks"  # register webhooks, read their delivery log, redeliver
    MANAGE_PROJECT = "manage_project"  # rename, describe, delete the project; make admins


RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

MINIMUM_ROLE = {
    Action.VIEW: Role.VIEWER,
    Action.CONTRIBUTE: Role.MEMBER,
    Action.MODERATE: Role.ADMIN,
    Action.MANAGE_MEMBERS: Role.ADMIN,
    Action.MANAGE_WEBHOOKS: Role.ADMIN,
    Action.MANAGE_PROJECT: Role.OWNER,
}


def can(role: str | None, action: Action) -> bool:
    if role is None:
        return False
    return RANK[Role(role)] >= RANK[MINIMUM_ROLE[action]]


def can_grant(role: str | None, target_role: str) -> bool:
    """Admins manage members and viewers; only an owner makes (or unmakes) admins and owners."""
    if role is None:
        return False
    if Role(role) == Role.OWNER:
        return True
    return can(role, Action.MANAGE_MEMBERS) and Role(target_role) in {Role.MEMBER, Role.VIEWER}


def can_delete_own_or_any(role: str | None, *, is_own: bool) -> bool:
    """Contributors delete what they made; admins delete anything."""
    if can(role, Action.MODERATE):
        return True
    return is_own and can(role, Action.CONTRIBUTE)
