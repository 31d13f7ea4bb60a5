"""What resolvers need from `info.context`: the viewer and the per-request loaders.

Over HTTP the context is the Django request; subscriptions may pass any object with a `user`
attribute, or a dict with a "user" key. Loaders are cached on the context, so a long-lived
context should be replaced per delivered event to avoid serving stale relations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser

if TYPE_CHECKING:
    from .dataloaders import Loaders

_LOADERS_ATTR = "_graph_loaders"


def viewer(info: Any) -> Any:
    context = info.context
    user = context.get("user") if isinstance(context, dict) else getattr(context, "user", None)
    return user if user is not None else AnonymousUser()


def loaders(info: Any) -> Loaders:
    from .dataloaders import Loaders

    context = info.context
    if isinstance(context, dict):
        found = context.get(_LOADERS_ATTR)
        if found is None:
            found = context[_LOADERS_ATTR] = Loaders(viewer(info))
        return found
    found = getattr(context, _LOADERS_ATTR, None)
    if found is None:
        found = Loaders(viewer(info))
        setattr(context, _LOADERS_ATTR, found)
    return found
