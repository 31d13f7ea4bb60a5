"""Relay global IDs <-> integer primary keys. A malformed or foreign-typed ID is not found."""

from __future__ import annotations

import binascii

from graphql_relay import from_global_id, to_global_id

from tasks.errors import NotFound

__all__ = ["decode_id", "decode_or_raw", "to_global_id"]


def _decode(value: object, type_name: str) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    if value.isdigit():
        return int(value)
    try:
        decoded_type, raw_pk = from_global_id(value)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None
    if decoded_type != type_name or not raw_pk.isdigit():
        return None
    return int(raw_pk)


def decode_id(value: object, type_name: str) -> int:
    """The primary key behind a global ID (a plain integer is accepted too), or `NotFound`."""
    pk = _decode(value, type_name)
    if pk is None or pk > 2**31 - 1:
        raise NotFound(type_name.lower())
    return pk


def decode_or_raw(value: object, type_name: str) -> object:
    """For service arguments that the service validates itself (e.g. `assignee_id`): the primary
    key when the ID is well formed, else the raw value so the service reports it as invalid."""
    if value is None:
        return None
    pk = _decode(value, type_name)
    return pk if pk is not None else value
