"""`uploadAttachment` over the GraphQL multipart request spec, against the live server: gql's
multipart transport for the happy path and the refusals, raw httpx multipart bodies for the
malformed ones, and a browser session for the CSRF rule."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import httpx
import orjson
import pytest
from django.test import Client as DjangoClient
from gql import FileVar, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from graphql_relay import to_global_id
from requests_toolbelt import MultipartEncoder

from tasks.models import Attachment, Event
from tests.factories import make_task, make_token
from tests.tasks.attachment_files import PDF, TEXT, plain_zip, png, png_with_html

from .graphql_client import client_for, codes, run_error

pytestmark = pytest.mark.e2e

UPLOAD = """
mutation Upload($input: UploadAttachmentInput!) {
  uploadAttachment(input: $input) {
    attachment {
      id name size contentType sha256 url width height state
      uploadedBy { username } task { id }
    }
    errors { field code message }
  }
}"""


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def task(project: Any, member: Any) -> Any:
    return make_task(project, member, title="Ship the release")


def upload(client: Any, task: Any, content: bytes, filename: str) -> dict[str, Any]:
    request = GraphQLRequest(
        UPLOAD,
        variable_values={
            "input": {
                "taskId": to_global_id("Task", task.pk),
                "file": FileVar(io.BytesIO(content), filename=filename),
            }
        },
    )
    result = client.execute(request, upload_files=True)
    return result["uploadAttachment"]  # type: ignore[no-any-return]


def test_upload_then_download_the_same_bytes(asgi_server: Any, member: Any, task: Any):
    token = make_token(member)
    payload = upload(client_for(asgi_server, token), task, PDF, "Quarterly report.pdf")

    assert payload["errors"] == []
    attachment = payload["attachment"]
    assert attachment["name"] == "Quarterly report.pdf"
    assert attachment["size"] == len(PDF)
    assert attachment["contentType"] == "application/pdf"
    assert attachment["uploadedBy"] == {"username": "mia"}
    assert attachment["task"]["id"] == to_global_id("Task", task.pk)
    stored = Attachment.objects.get(task=task)
    assert attachment["id"] == to_global_id("Attachment", stored.pk)
    assert attachment["url"] == f"/api/v1/attachments/{stored.pk}/download/"
    # Hashed while it streamed in: right whether or not a worker has processed it yet.
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    added = Event.objects.get(type="attachment.added")
    assert added.task_id == task.pk and added.actor_id == member.pk

    download = httpx.get(
        f"{asgi_server.url}{attachment['url']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert download.status_code == 200, download.text
    assert download.content == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_an_image_reports_its_size(asgi_server: Any, member: Any, task: Any):
    payload = upload(client_for(asgi_server, make_token(member)), task, png((40, 30)), "a.png")
    assert payload["errors"] == []
    assert payload["attachment"]["contentType"] == "image/png"
    if payload["attachment"]["state"] == "PROCESSED":
        assert (payload["attachment"]["width"], payload["attachment"]["height"]) == (40, 30)


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        pytest.param(TEXT * 200, "notes.txt", "TOO_LARGE", id="too-large"),
        pytest.param(plain_zip(), "archive.zip", "UNSUPPORTED_TYPE", id="disallowed-type"),
        pytest.param(PDF, "photo.png", "TYPE_MISMATCH", id="extension-lies"),
        pytest.param(png_with_html(), "pixel.png", "UNSUPPORTED_TYPE", id="png-html-polyglot"),
        pytest.param(b"", "empty.txt", "REQUIRED", id="empty"),
    ],
)
def test_refusals_are_user_errors(
    asgi_server: Any,
    member: Any,
    task: Any,
    settings: Any,
    content: bytes,
    filename: str,
    code: str,
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    assert len(TEXT * 200) > 1000 and len(png_with_html()) < 1000

    payload = upload(client_for(asgi_server, make_token(member)), task, content, filename)

    assert payload["attachment"] is None
    assert [(error["field"], error["code"]) for error in payload["errors"]] == [("file", code)]
    assert not Attachment.objects.exists()
    assert not Event.objects.filter(type="attachment.added").exists()


def test_viewer_is_forbidden_and_outsider_gets_not_found(
    asgi_server: Any, viewer: Any, outsider: Any, task: Any
):
    for user, code in ((viewer, "FORBIDDEN"), (outsider, "NOT_FOUND")):
        client = client_for(asgi_server, make_token(user))
        variables = {
            "input": {
                "taskId": to_global_id("Task", task.pk),
                "file": FileVar(io.BytesIO(PDF), filename="report.pdf"),
            }
        }
        try:
            client.execute(GraphQLRequest(UPLOAD, variable_values=variables), upload_files=True)
        except TransportQueryError as error:
            assert codes(error) == [code]
        else:
            raise AssertionError("expected a top-level error")
    assert not Attachment.objects.exists()


def _operations(task: Any, file: object = None) -> str:
    return orjson.dumps(
        {
            "query": UPLOAD,
            "variables": {"input": {"taskId": to_global_id("Task", task.pk), "file": file}},
        }
    ).decode()


MAP = '{"0": ["variables.input.file"]}'


def _post_multipart(
    server: Any, token: str | None, data: dict[str, str], files: dict[str, Any], **headers: str
) -> httpx.Response:
    """A multipart body even without file parts (httpx would send urlencoded then)."""
    body = MultipartEncoder(fields={**data, **files})
    headers["Content-Type"] = body.content_type
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{server.url}/graphql", content=body.to_string(), headers=headers)


def _pdf() -> dict[str, Any]:
    return {"0": ("report.pdf", PDF, "application/pdf")}


def test_a_spec_multipart_request_from_httpx(asgi_server: Any, member: Any, task: Any):
    response = _post_multipart(
        asgi_server, make_token(member), {"operations": _operations(task), "map": MAP}, _pdf()
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["uploadAttachment"]["attachment"]["name"] == "report.pdf"


def _malformed_cases(task: Any) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    operations = _operations(task)
    return [
        ("operations not JSON", {"operations": "{not json", "map": MAP}, _pdf()),
        ("operations missing", {"map": MAP}, _pdf()),
        ("operations a batch", {"operations": f"[{operations}]", "map": MAP}, _pdf()),
        ("map not JSON", {"operations": operations, "map": "{0:"}, _pdf()),
        ("map missing", {"operations": operations}, _pdf()),
        ("map not an object", {"operations": operations, "map": '["0"]'}, _pdf()),
        ("map paths not a list", {"operations": operations, "map": '{"0": "x"}'}, _pdf()),
        ("path outside variables", {"operations": operations, "map": '{"0": ["query"]}'}, _pdf()),
        (
            "path to an unknown variable",
            {"operations": operations, "map": '{"0": ["variables.input.nope"]}'},
            _pdf(),
        ),
        (
            "path through a scalar",
            {"operations": operations, "map": '{"0": ["variables.input.taskId.x"]}'},
            _pdf(),
        ),
        (
            "path to a non-null value",
            {"operations": operations, "map": '{"0": ["variables.input.taskId"]}'},
            _pdf(),
        ),
        (
            "bad list index",
            {"operations": operations, "map": '{"0": ["variables.input.file.²"]}'},
            _pdf(),
        ),
        ("file missing", {"operations": operations, "map": MAP}, {}),
        (
            "file not in the map",
            {"operations": operations, "map": MAP},
            {**_pdf(), "1": ("b.pdf", PDF, "application/pdf")},
        ),
        (
            "a query, not a mutation",
            {
                "operations": orjson.dumps({"query": "{ viewer { id } }"}).decode(),
                "map": "{}",
            },
            {},
        ),
    ]


def test_malformed_multipart_requests_are_400(asgi_server: Any, member: Any, task: Any):
    token = make_token(member)
    for label, data, files in _malformed_cases(task):
        response = _post_multipart(asgi_server, token, data, files)
        assert response.status_code == 400, (label, response.status_code, response.text)
        errors = response.json()["errors"]
        assert [error["extensions"]["code"] for error in errors] == ["BAD_USER_INPUT"], label
    assert not Attachment.objects.exists()


def test_a_broken_multipart_body_is_400(asgi_server: Any, member: Any):
    response = httpx.post(
        f"{asgi_server.url}/graphql",
        content=b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{',
        headers={
            "Authorization": f"Bearer {make_token(member)}",
            "Content-Type": "multipart/form-data; boundary=",
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_upload_variable_in_json_is_bad_input(asgi_server: Any, member: Any, task: Any):
    client = client_for(asgi_server, make_token(member))
    error = run_error(
        client, UPLOAD, input={"taskId": to_global_id("Task", task.pk), "file": "report.pdf"}
    )
    assert codes(error) == ["BAD_USER_INPUT"]
    assert not Attachment.objects.exists()


def test_idempotency_key_replays_an_upload(asgi_server: Any, member: Any, task: Any):
    token = make_token(member)
    data = {"operations": _operations(task), "map": MAP}
    first = _post_multipart(asgi_server, token, data, _pdf(), **{"Idempotency-Key": "up-1"})
    again = _post_multipart(asgi_server, token, data, _pdf(), **{"Idempotency-Key": "up-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = {"0": ("report.pdf", PDF + b"%", "application/pdf")}
    changed = _post_multipart(asgi_server, token, data, other, **{"Idempotency-Key": "up-1"})
    assert changed.status_code == 422
    assert Attachment.objects.count() == 1


def test_session_multipart_needs_a_preflight_header(asgi_server: Any, member: Any, task: Any):
    browser = DjangoClient()
    browser.force_login(member)
    session = browser.cookies["sessionid"].value
    data = {"operations": _operations(task), "map": MAP}
    with httpx.Client(base_url=asgi_server.url, cookies={"sessionid": session}) as client:
        client.get("/graphql", headers={"Accept": "text/html"})  # sets the CSRF cookie
        csrf_token = client.cookies["csrftoken"]

        # What a cross-site HTML form could send: cookies, a multipart body, no custom header.
        refused = client.post("/graphql", data=data, files=_pdf())
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "Apollo-Require-Preflight" in refused.json()["errors"][0]["message"]
        foreign = client.post(
            "/graphql",
            data=data,
            files=_pdf(),
            headers={"Apollo-Require-Preflight": "true", "Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403, foreign.text
        assert not Attachment.objects.exists()

        preflighted = client.post(
            "/graphql", data=data, files=_pdf(), headers={"Apollo-Require-Preflight": "true"}
        )
        assert preflighted.status_code == 200, preflighted.text
        assert preflighted.json()["data"]["uploadAttachment"]["errors"] == []
        with_token = client.post(
            "/graphql",
            data=data,
            files=_pdf(),
            headers={"X-CSRFToken": csrf_token, "Referer": asgi_server.url},
        )
        assert with_token.status_code == 200, with_token.text
    assert Attachment.objects.filter(uploaded_by=member).count() == 2
