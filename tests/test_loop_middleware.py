"""Django's own middleware run in the event loop under ASGI (project/loop_middleware.py): the
thread hops a request takes, counted exactly, and the paths that do I/O (a session saved,
messages stored in the session, a CSRF secret kept in the session, a form's CSRF check)
still taking theirs. Driven through Django's ASGI handler (`AsyncClient`): a step that
reached the database from the loop would raise `SynchronousOnlyOperation` and answer 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.contrib import messages
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.test import AsyncClient
from django.urls import path

from project import loop_middleware

pytestmark = pytest.mark.django_db(transaction=True)

DJANGO_CLASSES = {
    "project.loop_middleware.SecurityMiddleware": "django.middleware.security.SecurityMiddleware",
    "project.loop_middleware.SessionMiddleware": (
        "django.contrib.sessions.middleware.SessionMiddleware"
    ),
    "project.loop_middleware.CommonMiddleware": "django.middleware.common.CommonMiddleware",
    "project.loop_middleware.CsrfViewMiddleware": "django.middleware.csrf.CsrfViewMiddleware",
    "project.loop_middleware.AuthenticationMiddleware": (
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    ),
    "project.loop_middleware.MessageMiddleware": (
        "django.contrib.messages.middleware.MessageMiddleware"
    ),
    "project.loop_middleware.XFrameOptionsMiddleware": (
        "django.middleware.clickjacking.XFrameOptionsMiddleware"
    ),
}


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def remember(request: HttpRequest) -> HttpResponse:
    request.session["seen"] = request.session.get("seen", 0) + 1
    return HttpResponse(str(request.session["seen"]))


def tell(request: HttpRequest) -> HttpResponse:
    messages.info(request, "saved")
    return HttpResponse("told")


def listen(request: HttpRequest) -> HttpResponse:
    return HttpResponse(",".join(str(message) for message in messages.get_messages(request)))


def form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return HttpResponse("posted " + request.POST.get("field", ""))
    return HttpResponse(get_token(request))


urlpatterns = [
    path("plain/", plain),
    path("remember/", remember),
    path("tell/", tell),
    path("listen/", listen),
    path("form/", form),
]


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


@pytest.fixture
async def asgi() -> Any:
    """`AsyncClient`s; their sync steps ran in asgiref's shared thread (the test client has no
    per-request thread), whose connections are closed after the test, as a request's are."""
    yield AsyncClient
    await sync_to_async(connections.close_all, thread_sensitive=True)()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the sync callables sent to a thread, in order."""
    seen: list[str] = []
    original = SyncToAsync.__call__

    def counted(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(self.func, "__qualname__", repr(self.func)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    yield seen


async def test_a_plain_request_takes_the_view_hop_and_the_handlers_own_only(
    asgi: Any,
    hops: list[str],
) -> None:
    response = await asgi().get("/plain/")
    assert response.status_code == 200 and response.content == b"ok"
    # The test client's request_started receivers, the view, response.close().
    assert len(hops) == 3, hops
    assert not any("process_" in name for name in hops), hops


async def test_djangos_own_classes_take_thirteen_hops_more(
    asgi: Any, hops: list[str], settings: Any
) -> None:
    settings.MIDDLEWARE = [DJANGO_CLASSES.get(name, name) for name in settings.MIDDLEWARE]
    response = await asgi().get("/plain/")
    assert response.status_code == 200
    assert len(hops) == 3 + 13, hops


async def test_a_modified_session_is_saved_in_a_thread(asgi: Any, hops: list[str]) -> None:
    client = asgi()
    assert (await client.get("/remember/")).content == b"1"
    assert "SessionMiddleware.process_response" in hops
    hops.clear()
    assert (await client.get("/remember/")).content == b"2"
    assert (await client.get("/plain/")).status_code == 200


async def test_messages_kept_in_the_session_are_stored_and_read(
    asgi: Any, hops: list[str], settings: Any
) -> None:
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    client = asgi()
    assert (await client.get("/tell/")).status_code == 200
    assert "MessageMiddleware.process_response" in hops
    listened = await client.get("/listen/")
    assert listened.status_code == 200 and listened.content == b"saved"
    assert (await client.get("/listen/")).content == b""


async def test_a_form_post_is_checked_for_its_csrf_token(asgi: Any, hops: list[str]) -> None:
    client = asgi(enforce_csrf_checks=True)
    assert (await client.post("/form/", {"field": "x"})).status_code == 403
    token = (await client.get("/form/")).content.decode()
    hops.clear()
    accepted = await client.post("/form/", {"field": "x", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 200 and accepted.content == b"posted x"
    assert "CsrfViewMiddleware.process_view" in hops


async def test_a_csrf_secret_kept_in_the_session_works(
    asgi: Any, hops: list[str], settings: Any
) -> None:
    settings.CSRF_USE_SESSIONS = True
    client = asgi(enforce_csrf_checks=True)
    token = (await client.get("/form/")).content.decode()
    assert "CsrfViewMiddleware.process_response" in hops
    assert (await client.post("/form/", {"field": "y"})).status_code == 403
    accepted = await client.post("/form/", {"field": "y", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 200 and accepted.content == b"posted y"


def test_under_wsgi_the_methods_run_in_place(client: Any) -> None:
    # The sync handler: MiddlewareMixin.__call__, no __acall__, process_view a plain method.
    response = client.get("/remember/")
    assert response.status_code == 200 and response.content == b"1"
    assert client.get("/remember/").content == b"2"


def test_every_django_middleware_in_settings_is_the_loop_variant(settings: Any) -> None:
    for name in settings.MIDDLEWARE:
        assert name not in DJANGO_CLASSES.values(), name
    for name in DJANGO_CLASSES:
        assert name in settings.MIDDLEWARE
        assert issubclass(
            getattr(loop_middleware, name.rsplit(".", 1)[1]), loop_middleware.LoopMiddlewareMixin
        )


def test_the_deploy_check_accepts_the_subclasses_and_flags_a_missing_one(settings: Any) -> None:
    assert loop_middleware.check_security_middleware() == []
    settings.MIDDLEWARE = [DJANGO_CLASSES.get(name, name) for name in settings.MIDDLEWARE]
    assert loop_middleware.check_security_middleware() == []
    settings.MIDDLEWARE = [
        name for name in settings.MIDDLEWARE if not name.endswith("CsrfViewMiddleware")
    ]
    assert [warning.id for warning in loop_middleware.check_security_middleware()] == [
        "project.W003"
    ]
