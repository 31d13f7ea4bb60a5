"""Events are written in the change's transaction and published only after it commits, to the
`project.<id>` group (sockets on a task listen there and filter). A rollback leaves no event and
publishes nothing; a dead channel layer or cache is logged and never undoes or fails a committed
change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer
from django.db import connection, transaction
from django.test import override_settings

from tasks import events, services
from tasks.models import Event, Task
from tests.factories import acquaint, make_task

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


class Boom(Exception):
    pass


def all_services(project: Any, task: Any, comment: Any, attachment: Any, users: Any) -> list[Any]:
    """One call of every service that records an event, as (expected groups, call) pairs."""
    owner, admin, member, viewer = users
    p = f"project.{project.pk}"
    return [
        (["project.*"], lambda: services.project_create(actor=member, name="Other")),
        (
            [p],
            lambda: services.project_update(
                actor=owner, project_id=project.pk, changes={"name": "N"}
            ),
        ),
        (
            [p],
            lambda: services.member_add(
                actor=owner, project_id=project.pk, username="oscar", role="viewer"
            ),
        ),
        (
            [p],
            lambda: services.member_remove(actor=admin, project_id=project.pk, user_id=viewer.pk),
        ),
        (
            [p],
            lambda: services.task_create(actor=member, project_id=project.pk, title="T"),
        ),
        (
            [p],
            lambda: services.task_update(actor=member, task_id=task.pk, changes={"title": "U"}),
        ),
        ([p], lambda: services.comment_add(actor=member, task_id=task.pk, body="c")),
        ([p], lambda: services.comment_update(actor=member, comment_id=comment.pk, body="d")),
        ([p], lambda: services.comment_delete(actor=member, comment_id=comment.pk)),
        ([p], lambda: services.attachment_delete(actor=admin, attachment_id=attachment.pk)),
        ([p], lambda: services.task_delete(actor=admin, task_id=task.pk)),
    ]


@pytest.fixture
def calls(project, task, comment, attachment, owner, admin, member, viewer, outsider):
    acquaint(owner, outsider)  # so the owner may add them (tasks.services._addable_user)
    return all_services(project, task, comment, attachment, (owner, admin, member, viewer))


def group_matches(expected: list[str], sent: list[str]) -> bool:
    return len(expected) == len(sent) and all(
        want == got or (want.endswith("*") and got.startswith(want[:-1]))
        for want, got in zip(expected, sent, strict=True)
    )  # fmt: skip


def test_every_change_publishes_once_after_commit_to_its_groups(
    calls, layer, django_capture_on_commit_callbacks
):
    for expected_groups, call in calls:
        layer.sent.clear()
        before = Event.objects.count()
        with django_capture_on_commit_callbacks() as callbacks:
            call()
            assert layer.sent == []  # nothing leaves before the commit
        assert Event.objects.count() == before + 1
        for callback in callbacks:
            callback()
        event = Event.objects.order_by("-id").first()
        assert group_matches(expected_groups, layer.groups()), (expected_groups, layer.groups())
        for _, message in layer.sent:
            assert message == {"type": "domain.event", "event": events.event_payload(event)}


def test_each_service_writes_exactly_one_event(calls):
    for _, call in calls:
        before = list(Event.objects.values_list("id", flat=True))
        call()
        new = Event.objects.exclude(id__in=before)
        assert new.count() == 1, repr(call)


def test_a_rolled_back_change_leaves_no_event_and_publishes_nothing(
    calls, layer, django_capture_on_commit_callbacks
):
    for _, call in calls:
        before = Event.objects.count()
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(Boom),
            transaction.atomic(),
        ):
            call()
            raise Boom
        assert callbacks == []
        assert Event.objects.count() == before
    assert layer.sent == []


def test_a_rolled_back_task_update_keeps_the_old_version(task, member, layer):
    with pytest.raises(Boom), transaction.atomic():
        services.task_update(actor=member, task_id=task.pk, changes={"status": "done"})
        raise Boom
    task.refresh_from_db()
    assert (task.status, task.version, task.completed_at) == ("todo", 1, None)


def test_events_are_only_recorded_inside_a_transaction(task, member):
    # Outside any atomic block (autocommit) an event could outlive a failed change.
    with pytest.raises(RuntimeError):
        async_to_sync(sync_to_async(_record_outside_a_transaction, thread_sensitive=False))(task)


def _record_outside_a_transaction(task: Task) -> None:
    try:
        events.task_created(task.created_by, task)
    finally:
        connection.close()


def test_the_payload_is_the_wire_form_of_the_stored_event(task, member):
    event = Event.objects.get(type="task.created", task_id=task.pk)
    payload = events.event_payload(event)
    assert payload["id"] == str(event.pk)
    assert payload["type"] == "task.created"
    assert payload["taskId"] and payload["projectId"]
    assert payload["actor"]["username"] == member.username
    assert payload["data"] == event.data
    assert payload["createdAt"] == event.created_at.isoformat()


def test_each_commit_bumps_the_project_generation(task, member, django_capture_on_commit_callbacks):
    start = events.current_generation(task.project_id)
    for title in ("one", "two"):
        with django_capture_on_commit_callbacks(execute=True):
            services.task_update(actor=member, task_id=task.pk, changes={"title": title})
    assert events.current_generation(task.project_id) == start + 2


def test_two_first_bumps_racing_both_count(task, monkeypatch):
    from django.core.cache import cache

    class SomeoneElseAddsFirst:
        def incr(self, key: str) -> int:
            return cache.incr(key)

        def add(self, key: str, value: int, timeout: Any = None) -> bool:
            cache.add(key, value, timeout=timeout)  # the other process, just before us
            return cache.add(key, value, timeout=timeout)

    cache.delete(events.generation_key(task.project_id))
    monkeypatch.setattr(events, "cache", SomeoneElseAddsFirst())
    events.bump_generation(task.project_id)
    assert cache.get(events.generation_key(task.project_id)) == 2


# --- Failures after the commit -------------------------------------------------------------------


@contextlib.contextmanager
def channel_layer_setting(config: dict[str, Any]) -> Iterator[None]:
    """CHANNEL_LAYERS changed for one test. Changing the setting drops Channels' layer instances
    (and restoring it does again); the previous ones are put back afterwards, because the live
    test server's hub keeps listening on the layer it joined."""
    saved = channel_layers.backends
    with override_settings(CHANNEL_LAYERS=config):
        yield
    channel_layers.backends = saved


@pytest.fixture
def dead_channel_layer() -> Iterator[None]:
    with channel_layer_setting(
        {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [{"address": DEAD_REDIS, "socket_connect_timeout": 1}]},
            }
        }
    ):
        yield


def test_a_dead_channel_layer_leaves_the_change_committed_and_logs(
    dead_channel_layer, task, member, caplog, django_capture_on_commit_callbacks
):
    start = events.current_generation(task.project_id)
    with (
        caplog.at_level(logging.ERROR, logger="tasks.events"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        updated = services.task_update(actor=member, task_id=task.pk, changes={"title": "Up"})
    assert len(callbacks) >= 1
    assert updated.version == 2
    task.refresh_from_db()
    assert (task.title, task.version) == ("Up", 2)
    assert Event.objects.filter(task_id=task.pk, type="task.updated").count() == 1
    assert [r.getMessage() for r in caplog.records] == ["event publish failed"]
    assert caplog.records[0].exc_info is not None
    assert events.current_generation(task.project_id) == start + 1


def test_a_failing_group_send_is_logged(task, member, monkeypatch, caplog):
    class BrokenLayer:
        async def group_send(self, group: str, message: Any) -> None:
            raise ConnectionError("redis is down")

    monkeypatch.setattr(events, "get_channel_layer", BrokenLayer)
    with caplog.at_level(logging.ERROR, logger="tasks.events"):
        events.publish({"id": "1", "type": "task.updated"}, project_id=task.project_id)
    assert [r.getMessage() for r in caplog.records] == ["event publish failed"]


def test_a_dead_cache_does_not_stop_the_publish(
    settings, task, member, layer, caplog, django_capture_on_commit_callbacks
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    with (
        caplog.at_level(logging.ERROR, logger="tasks.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.comment_add(actor=member, task_id=task.pk, body="still delivered")
    assert layer.groups() == [f"project.{task.project_id}"]
    assert [r.getMessage() for r in caplog.records] == ["cache generation bump failed"]
    assert task.comments.get().body == "still delivered"


# --- Delivery through a real channel layer -------------------------------------------------------


@pytest.fixture
def memory_layer() -> Iterator[InMemoryChannelLayer]:
    with channel_layer_setting({"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}):
        layer = get_channel_layer()
        assert isinstance(layer, InMemoryChannelLayer)
        yield layer


def test_subscribers_of_the_project_group_receive_the_event(
    memory_layer, task, member, django_capture_on_commit_callbacks
):
    on_project = async_to_sync(memory_layer.new_channel)()
    elsewhere = async_to_sync(memory_layer.new_channel)()
    async_to_sync(memory_layer.group_add)(f"project.{task.project_id}", on_project)
    async_to_sync(memory_layer.group_add)(f"project.{task.project_id + 1}", elsewhere)

    with django_capture_on_commit_callbacks(execute=True):
        services.task_update(actor=member, task_id=task.pk, changes={"priority": "high"})

    event = Event.objects.latest("id")
    expected = {"type": "domain.event", "event": events.event_payload(event)}
    assert async_to_sync(memory_layer.receive)(on_project) == expected
    assert expected["event"]["data"]["changedFields"] == ["priority"]
    assert memory_layer.channels.get(elsewhere) is None or memory_layer.channels[elsewhere].empty()


@pytest.mark.django_db(transaction=True)
async def test_a_service_called_from_async_code_delivers_on_commit(memory_layer, project, member):
    """The way consumers and ASGI views use the domain: the service runs in a worker thread, the
    event arrives on the event loop after the real commit."""
    channel = await memory_layer.new_channel()
    await memory_layer.group_add(f"project.{project.pk}", channel)

    def create() -> Task:
        try:
            return make_task(project, member, title="From async")
        finally:
            connection.close()

    task = await sync_to_async(create)()
    message = await asyncio.wait_for(memory_layer.receive(channel), timeout=10)
    assert message["type"] == "domain.event"
    assert message["event"]["type"] == "task.created"
    assert message["event"]["data"]["title"] == "From async"
    assert message["event"]["data"]["pk"] == task.pk


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_events_travel_through_redis(project, member):
    """With REDIS_URL set the default layer is channels-redis: delivery goes through Redis."""
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")
    channel = await layer.new_channel()
    await layer.group_add(f"project.{project.pk}", channel)
    try:

        def create() -> Task:
            try:
                return make_task(project, member, title="Via Redis")
            finally:
                connection.close()

        await sync_to_async(create)()
        message = await asyncio.wait_for(layer.receive(channel), timeout=10)
        assert message["event"]["data"]["title"] == "Via Redis"
    finally:
        await layer.group_discard(f"project.{project.pk}", channel)
