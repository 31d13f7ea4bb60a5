"""The multipart request reader (paths, the streaming size limit) and the session CSRF rule of
`/graphql`, through Django's in-process client. The live-server tests are in
tests/e2e/test_graphql_upload.py."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from graphql_relay import to_global_id

from graph.csrf import preflighted
from graph.multipart import (
    OVERSIZED_UPLOAD,
    InvalidMultipart,
    read_operations,
    upload_fingerprint,
)
from tasks.models import Attachment
from tests.factories import make_task, make_token
from tests.tasks.attachment_files import PDF

UPLOAD = (
    "mutation($input: UploadAttachmentInput!) { uploadAttachment(input: $input) "
    "{ attachment { name size } errors { field code } } }"
)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _request(operations: object, file_map: object, **files: Any) -> Any:
    data: dict[str, Any] = {"operations": orjson.dumps(operations).decode()}
    data["map"] = orjson.dumps(file_map).decode()
    return RequestFactory().post("/graphql", data={**data, **files})


def _file(content: bytes = PDF, name: str = "a.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/pdf")


def test_files_fill_nested_and_list_variables() -> None:
    operations = {"query": "q", "variables": {"a": {"b": [None, None]}, "c": None}}
    request = _request(
        operations,
        {"0": ["variables.a.b.1", "variables.c"], "1": ["variables.a.b.0"]},
        **{"0": _file(name="zero.pdf"), "1": _file(name="one.pdf")},
    )
    variables = read_operations(request)["variables"]
    assert [item.name for item in variables["a"]["b"]] == ["one.pdf", "zero.pdf"]
    assert variables["c"] is variables["a"]["b"][1]


@pytest.mark.parametrize(
    "path",
    ["variables", "operationName", "variables.x.-1", "variables.x.5", "variables.y", "variables.z"],
)
def test_paths_must_point_at_a_null_variable(path: str) -> None:
    operations = {"query": "q", "variables": {"x": [None], "y": 3}, "operationName": None}
    with pytest.raises(InvalidMultipart):
        read_operations(_request(operations, {"0": [path]}, **{"0": _file()}))


def test_a_file_stopped_by_the_size_limit_becomes_the_oversized_marker(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    operations = {"query": "q", "variables": {"file": None}}
    request = _request(operations, {"0": ["variables.file"]}, **{"0": _file(b"x" * 5000)})
    assert read_operations(request)["variables"]["file"] is OVERSIZED_UPLOAD


def test_a_body_far_over_the_limit_is_not_parsed(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    request = _request({"query": "q"}, {}, **{"0": _file(b"x" * 1_100_000)})
    with pytest.raises(InvalidMultipart) as raised:
        read_operations(request)
    assert raised.value.status == 413


def test_upload_fingerprint_is_by_content() -> None:
    first, same, other = _file(b"abc"), _file(b"abc", name="b.pdf"), _file(b"abd")
    assert upload_fingerprint(first) == upload_fingerprint(same) != upload_fingerprint(other)
    assert first.read() == b"abc"  # rewound for the service
    with pytest.raises(TypeError):
        upload_fingerprint(object())


def test_preflight_header_needs_an_allowed_origin(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    factory = RequestFactory()
    assert not preflighted(factory.post("/graphql"))
    assert preflighted(factory.post("/graphql", headers={"Apollo-Require-Preflight": "1"}))
    assert preflighted(factory.post("/graphql", headers={"X-Apollo-Operation-Name": "Upload"}))
    same_site = {"Apollo-Require-Preflight": "1", "Origin": "http://testserver"}
    assert preflighted(factory.post("/graphql", headers=same_site))
    foreign = {"Apollo-Require-Preflight": "1", "Origin": "https://evil.example"}
    assert not preflighted(factory.post("/graphql", headers=foreign))


def _upload_body(task: Any, content: bytes = PDF) -> dict[str, Any]:
    operations = {"query": UPLOAD, "variables": {"input": {"taskId": task.pk, "file": None}}}
    return {
        "operations": orjson.dumps(operations).decode(),
        "map": '{"0": ["variables.input.file"]}',
        "0": _file(content),
    }


def test_session_upload_csrf(project: Any, member: Any) -> None:
    task = make_task(project, member)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    refused = browser.post("/graphql", _upload_body(task))
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    accepted = browser.post(
        "/graphql", _upload_body(task), headers={"Apollo-Require-Preflight": "true"}
    )
    assert accepted.status_code == 200
    assert accepted.json()["data"]["uploadAttachment"] == {
        "attachment": {"name": "a.pdf", "size": len(PDF)},
        "errors": [],
    }
    assert Attachment.objects.count() == 1


def test_session_json_mutations_accept_the_preflight_header_too(member: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    body = {"query": 'mutation { createProject(input: {name: "P"}) { errors { code } } }'}
    refused = browser.post("/graphql", body, content_type="application/json")
    assert refused.status_code == 403
    accepted = browser.post(
        "/graphql",
        body,
        content_type="application/json",
        headers={"Apollo-Require-Preflight": "true"},
    )
    assert accepted.status_code == 200
    assert accepted.json()["data"]["createProject"]["errors"] == []


def test_oversized_upload_is_a_user_error(project: Any, member: Any, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    task = make_task(project, member)
    response = Client().post(
        "/graphql",
        _upload_body(task, b"x" * 5000),
        headers={"Authorization": f"Bearer {make_token(member)}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["uploadAttachment"] == {
        "attachment": None,
        "errors": [{"field": "file", "code": "TOO_LARGE"}],
    }
    assert not Attachment.objects.exists()


def test_a_query_over_multipart_is_refused(member: Any) -> None:
    response = Client().post(
        "/graphql",
        {"operations": '{"query": "{ viewer { id } }"}', "map": "{}"},
        headers={"Authorization": f"Bearer {make_token(member)}"},
    )
    assert response.status_code == 400
    assert "mutations only" in response.json()["errors"][0]["message"]


def test_global_and_raw_task_ids_both_work(project: Any, member: Any) -> None:
    task = make_task(project, member)
    body = _upload_body(task)
    operations = orjson.loads(body["operations"])
    operations["variables"]["input"]["taskId"] = to_global_id("Task", task.pk)
    body["operations"] = orjson.dumps(operations).decode()
    response = Client().post(
        "/graphql", body, headers={"Authorization": f"Bearer {make_token(member)}"}
    )
    assert response.json()["data"]["uploadAttachment"]["errors"] == []


def test_an_upload_literal_in_the_query_is_a_validation_error(project: Any, member: Any) -> None:
    task = make_task(project, member)
    query = (
        f'mutation {{ uploadAttachment(input: {{taskId: {task.pk}, file: "a.pdf"}}) '
        "{ errors { code } } }"
    )
    response = Client().post(
        "/graphql",
        {"query": query},
        content_type="application/json",
        headers={"Authorization": f"Bearer {make_token(member)}"},
    )
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Upload" in errors[0]["message"]
    assert not Attachment.objects.exists()
