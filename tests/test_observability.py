import json
import logging

import httpx
import pytest

from project.observability import RequestIdLogFilter


@pytest.mark.django_db
def test_every_response_gets_a_request_id(client):
    response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert client.get("/healthz")["X-Request-ID"] != request_id


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-proxy.1234:abc"})
    assert response["X-Request-ID"] == "edge-proxy.1234:abc"


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["x" * 200, "a b", "<script>", "id\u00e9"])
def test_an_insane_incoming_request_id_is_replaced(client, bad):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_one_access_log_line_per_request_with_its_fields(client, caplog):
    with caplog.at_level(logging.INFO, logger="access"):
        response = client.get("/healthz?token=secret-value")
    records = [r for r in caplog.records if r.name == "access"]
    assert len(records) == 1
    record = records[0]
    assert record.method == "GET"
    assert record.route == "/healthz"
    assert record.status == 200
    assert record.request_id == response["X-Request-ID"]
    assert record.duration_ms >= 0
    assert "secret-value" not in json.dumps(record.__dict__, default=str)


def test_log_lines_are_json_objects_carrying_the_request_id():
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(levelname)s %(name)s %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdLogFilter().filter(record)
    line = formatter.format(record)
    assert json.loads(line)["message"] == "hello"
    assert "request_id" in json.loads(line)


def test_metrics_are_served_in_prometheus_format(asgi_server):
    httpx.get(f"{asgi_server.url}/healthz")
    response = httpx.get(f"{asgi_server.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in response.text
    assert "http_request_duration_seconds_bucket" in response.text
    assert "websocket_connections" in response.text
    assert "events_published_total" in response.text
