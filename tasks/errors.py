"""The domain's errors. Each transport maps them in one place (GraphQL payloads, REST problems)."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base class for every error a service raises on purpose."""


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does."""

    def __init__(self, what: str = "object") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class PermissionDenied(DomainError):
    """The actor can see the object but its role does not allow the action."""

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldError:
    field: str | None
    code: str
    message: str


class ValidationError(DomainError):
    """One or more problems with the input. Codes are stable and part of the API:
    `required`, `invalid`, `too_long`, `invalid_choice`, `not_a_member`, `conflict`,
    `not_found`, `last_owner`, `unknown_field`."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field or '-'}: {e.code}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, field: str | None, code: str, message: str) -> ValidationError:
        return cls([FieldError(field, code, message)])

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]
