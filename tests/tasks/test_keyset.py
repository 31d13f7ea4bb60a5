"""tasks.keyset, the pagination core of REST and GraphQL: every task ordering in both directions,
with ties and nulls on every key; exact has_previous/has_next; stability under inserts and
deletes; one query per page; and cursors that refuse to be forged, edited or reused elsewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core import signing

from tasks import keyset, orderings
from tasks.models import PRIORITY_RANK, Task
from tests.factories import make_task

FIELDS = ["created_at", "updated_at", "due_date", "priority", "title"]
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def tasks(project: Any, owner: Any) -> list[Task]:
    """23 tasks with ties on every key (a few distinct values each) and nulls on due_date."""
    priorities = ["low", "medium", "high", "urgent"]
    made = []
    for n in range(23):
        task = make_task(
            project,
            owner,
            title=f"Task {n % 7}",
            priority=priorities[n % 4],
            due_date=None if n % 3 == 0 else date(2030, 1, 1 + n % 5),
        )
        # Timestamps with ties too (sub-second, so the cursor must keep microseconds).
        stamp = T0 + timedelta(microseconds=n % 6)
        Task.objects.filter(pk=task.pk).update(
            created_at=stamp, updated_at=stamp - timedelta(n % 4)
        )
        made.append(task)
    return list(Task.objects.filter(pk__in=[t.pk for t in made]))


def expected(tasks: list[Task], field: str, descending: bool) -> list[int]:
    def key(task: Task) -> Any:
        return PRIORITY_RANK[task.priority] if field == "priority" else getattr(task, field)

    present = sorted(
        (t for t in tasks if key(t) is not None), key=lambda t: (key(t), t.pk), reverse=descending
    )
    missing = sorted((t for t in tasks if key(t) is None), key=lambda t: t.pk, reverse=descending)
    return [t.pk for t in present + missing]


def ids(window: keyset.Window[Task]) -> list[int]:
    return [task.pk for task in window.rows]


def fetched(ordering: keyset.Ordering) -> dict[int, Task]:
    """Every task as `page` returns it (carrying its sort value), by id."""
    return {t.pk: t for t in keyset.page(Task.objects.all(), ordering, first=100).rows}


def roundtrip(ordering: keyset.Ordering, task: Task) -> keyset.Position:
    """Positions travel through the client as cursors."""
    return keyset.decode(ordering, keyset.encode(ordering, keyset.position_of(ordering, task)))


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("descending", [False, True])
def test_every_ordering_pages_forward_and_back_exactly(
    tasks: list[Task], field: str, descending: bool
) -> None:
    ordering = orderings.task_ordering("tasks", field, descending)
    everything = Task.objects.all()
    want = expected(tasks, field, descending)

    pages, after = [], None
    while True:
        window = keyset.page(everything, ordering, first=5, after=after)
        pages.append(ids(window))
        assert window.has_previous is (after is not None)
        if not window.has_next:
            break
        after = roundtrip(ordering, window.rows[-1])
    assert [pk for page in pages for pk in page] == want
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]

    back, before = [], None
    while True:
        window = keyset.page(everything, ordering, last=5, before=before)
        back.insert(0, ids(window))
        assert window.has_next is (before is not None)
        if not window.has_previous:
            break
        before = roundtrip(ordering, window.rows[0])
    assert [pk for page in back for pk in page] == want
    assert [len(page) for page in back] == [3, 5, 5, 5, 5]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("descending", [False, True])
def test_a_window_between_two_cursors_follows_relay(
    tasks: list[Task], field: str, descending: bool
) -> None:
    ordering = orderings.task_ordering("tasks", field, descending)
    want = expected(tasks, field, descending)
    by_pk = fetched(ordering)
    after, before = roundtrip(ordering, by_pk[want[3]]), roundtrip(ordering, by_pk[want[15]])
    qs = Task.objects.all()

    window = keyset.page(qs, ordering, first=5, after=after, before=before)
    assert (ids(window), window.has_previous, window.has_next) == (want[4:9], True, True)
    window = keyset.page(qs, ordering, last=5, after=after, before=before)
    assert (ids(window), window.has_previous, window.has_next) == (want[10:15], True, True)
    # first, then last of those (Relay's algorithm).
    window = keyset.page(qs, ordering, first=6, last=2, after=after)
    assert (ids(window), window.has_previous, window.has_next) == (want[8:10], True, True)
    # Everything between the cursors fits: more follows only beyond `before`.
    window = keyset.page(qs, ordering, first=50, after=after, before=before)
    assert (ids(window), window.has_previous, window.has_next) == (want[4:15], True, True)
    window = keyset.page(qs, ordering, first=50, before=roundtrip(ordering, by_pk[want[-1]]))
    assert (ids(window), window.has_previous, window.has_next) == (want[:-1], False, True)


@pytest.mark.parametrize("descending", [False, True])
def test_cursors_inside_the_null_block(tasks: list[Task], descending: bool) -> None:
    ordering = orderings.task_ordering("tasks", "due_date", descending)
    want = expected(tasks, "due_date", descending)
    by_pk = fetched(ordering)
    first_null = next(i for i, pk in enumerate(want) if by_pk[pk].due_date is None)
    at = roundtrip(ordering, by_pk[want[first_null + 1]])
    assert at.value is None
    qs = Task.objects.all()
    assert ids(keyset.page(qs, ordering, first=100, after=at)) == want[first_null + 2 :]
    assert ids(keyset.page(qs, ordering, last=100, before=at)) == want[: first_null + 1]


def test_flags_are_exact_for_empty_pages(tasks: list[Task]) -> None:
    ordering = orderings.task_ordering("tasks", "title", False)
    want = expected(tasks, "title", False)
    by_pk = fetched(ordering)
    qs = Task.objects.all()
    end, start = roundtrip(ordering, by_pk[want[-1]]), roundtrip(ordering, by_pk[want[0]])
    window = keyset.page(qs, ordering, first=5, after=end)
    assert (ids(window), window.has_previous, window.has_next) == ([], True, False)
    window = keyset.page(qs, ordering, last=5, before=start)
    assert (ids(window), window.has_previous, window.has_next) == ([], False, True)
    window = keyset.page(qs, ordering, first=0)
    assert (ids(window), window.has_previous, window.has_next) == ([], False, True)
    window = keyset.page(Task.objects.none(), ordering, first=5)
    assert (ids(window), window.has_previous, window.has_next) == ([], False, False)
    # A page past a cursor whose row (and everything before it) is gone has nothing before.
    Task.objects.filter(pk=want[0]).delete()
    window = keyset.page(qs, ordering, first=3, after=start)
    assert (ids(window), window.has_previous, window.has_next) == (want[1:4], False, True)


@pytest.mark.parametrize("field", FIELDS)
def test_pages_are_stable_while_others_insert_and_delete(
    tasks: list[Task], project: Any, owner: Any, field: str
) -> None:
    ordering = orderings.task_ordering("tasks", field, True)
    want = expected(tasks, field, True)
    qs = Task.objects.all()
    window = keyset.page(qs, ordering, first=3)
    seen = ids(window)
    victims = set()
    while window.has_next:
        # Between pages: a new task (sorting first, or anywhere) and the deletion of the page's
        # last row (the cursor's own row) and of a row further on.
        make_task(project, owner, title="Task 0", priority="urgent")
        cursor_row = window.rows[-1]
        gone = [pk for pk in want if pk not in seen and pk not in victims][-1:]
        victims.update(gone)
        Task.objects.filter(pk__in=[cursor_row.pk, *gone]).delete()
        window = keyset.page(qs, ordering, first=3, after=roundtrip(ordering, cursor_row))
        assert window.has_previous
        seen += ids(window)
    survivors = [pk for pk in want if pk not in victims]
    assert [pk for pk in seen if pk in set(want)] == survivors
    assert len(seen) == len(set(seen))


def test_a_page_is_one_query(tasks: list[Task], django_assert_num_queries: Any) -> None:
    ordering = orderings.task_ordering("tasks", "priority", True)
    want = expected(tasks, "priority", True)
    by_pk = fetched(ordering)
    after, before = roundtrip(ordering, by_pk[want[2]]), roundtrip(ordering, by_pk[want[20]])
    with django_assert_num_queries(1):
        window = keyset.page(Task.objects.all(), ordering, first=4, after=after, before=before)
    assert (window.has_previous, window.has_next) == (True, True)
    with django_assert_num_queries(1):
        window = keyset.page(Task.objects.all(), ordering, last=4, after=after, before=before)
    assert (window.has_previous, window.has_next) == (True, True)


def test_ordering_by_id_alone(project: Any, owner: Any) -> None:
    made = [make_task(project, owner, title=f"T{n}").pk for n in range(7)]
    qs = Task.objects.filter(pk__in=made)
    ordering = orderings.newest_first("deliveries")
    window = keyset.page(qs, ordering, first=3)
    assert (ids(window), window.has_previous, window.has_next) == (made[::-1][:3], False, True)
    at = roundtrip(ordering, qs.get(pk=made[4]))
    window = keyset.page(qs, ordering, first=3, after=at)
    assert (ids(window), window.has_previous, window.has_next) == (made[3::-1][:3], True, True)
    window = keyset.page(qs, ordering, last=3, before=at)
    assert (ids(window), window.has_previous, window.has_next) == ([made[6], made[5]], False, True)


# --- Cursors that must not decode -----------------------------------------------------------------

ORDERING = orderings.task_ordering("tasks", "due_date", False)


def signed(payload: Any) -> str:
    """A cursor signed as the server would sign it, with whatever payload."""
    return signing.Signer(salt="tasks.keyset.cursor", algorithm="sha256").sign_object(payload)


def test_a_cursor_round_trips_every_kind() -> None:
    for field in FIELDS:
        ordering = orderings.task_ordering("tasks", field, True)
        value = {
            "created_at": T0 + timedelta(microseconds=7),
            "updated_at": T0,
            "due_date": date(2030, 2, 3),
            "priority": 4,
            "title": 'Ünïcode "quoted" title',
        }[field]
        for position in (keyset.Position(value, 42), keyset.Position(None, 9)):
            assert keyset.decode(ordering, keyset.encode(ordering, position)) == position


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        "YXJyYXljb25uZWN0aW9uOjkyMjMzNzIwMzY4NTQ3NzU4MDc=",  # arrayconnection:9223372036854775807
        "YXJyYXljb25uZWN0aW9uOjM=",  # arrayconnection:3, an offset cursor of old
        "%%%",
        "a b:c",
        "\ud800:abc",  # a lone surrogate, as JSON can carry
        "eyJ2IjoxLCJvIjoidGFza3N8ZHVlX2RhdGUiLCJrIjpudWxsLCJpIjoxfQ",  # the payload, unsigned
        "eyJ2IjoxLCJvIjoidGFza3N8ZHVlX2RhdGUiLCJrIjpudWxsLCJpIjoxfQ:forgedsignature",
        "x" * 5000,
        signed({"v": 2, "o": "tasks|due_date", "k": None, "i": 1}),  # an unknown version
        signed({"v": 1, "o": "tasks|-due_date", "k": None, "i": 1}),  # another ordering
        signed({"v": 1, "o": "projects|due_date", "k": None, "i": 1}),  # another list
        signed({"v": 1, "o": "tasks|due_date", "k": None, "i": 2**63}),  # an id beyond any table
        signed({"v": 1, "o": "tasks|due_date", "k": None, "i": -1}),
        signed({"v": 1, "o": "tasks|due_date", "k": None, "i": True}),
        signed({"v": 1, "o": "tasks|due_date", "k": None, "i": "1"}),
        signed({"v": 1, "o": "tasks|due_date", "k": "2030-13-01", "i": 1}),  # not a date
        signed({"v": 1, "o": "tasks|due_date", "k": 20300101, "i": 1}),
        signed({"v": 1, "o": "tasks|due_date", "k": None}),
        signed([1, 2, 3]),
        signed("tasks|due_date"),
    ],
)
def test_malformed_forged_and_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode(ORDERING, cursor)


def test_a_cursor_of_a_retired_secret_key_still_decodes(settings: Any) -> None:
    cursor = keyset.encode(ORDERING, keyset.Position(date(2030, 1, 1), 5))
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-" + "x" * 50
    assert keyset.decode(ORDERING, cursor) == keyset.Position(date(2030, 1, 1), 5)
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode(ORDERING, cursor)


def test_an_edited_cursor_is_refused() -> None:
    cursor = keyset.encode(ORDERING, keyset.Position(date(2030, 1, 1), 5))
    assert keyset.decode(ORDERING, cursor) == keyset.Position(date(2030, 1, 1), 5)
    for index in range(len(cursor)):
        edited = cursor[:index] + ("A" if cursor[index] != "A" else "B") + cursor[index + 1 :]
        with pytest.raises(keyset.InvalidCursor):
            keyset.decode(ORDERING, edited)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created_at", "2030-01-01T12:00:00"),  # naive
        ("created_at", 5),
        ("priority", 2**63),
        ("priority", "4"),
        ("priority", 1.5),
        ("title", "nul\x00byte"),
        ("title", 7),
    ],
)
def test_values_of_the_wrong_kind_are_refused(field: str, value: Any) -> None:
    ordering = orderings.task_ordering("tasks", field, False)
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode(ordering, signed({"v": 1, "o": ordering.label, "k": value, "i": 1}))
