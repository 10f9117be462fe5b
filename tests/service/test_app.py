"""The HTTP API through Starlette's TestClient, with the offline and fake backends."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from summariser.backends.fake import FakeBackend
from summariser.errors import ConfigurationError
from summariser.service.app import create_app, export_openapi
from summariser.service.settings import ServiceSettings, hash_key
from summariser.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = (
    "Corvel Systems reported fourth-quarter revenue of $812 million, up 9% from a year earlier, "
    "and net income of $96 million. Shares rose 5% after the results."
)
KEY = "test-key-1"
AUTH = {"Authorization": f"Bearer {KEY}"}


def service_settings(tmp_path: Path, **changes: Any) -> ServiceSettings:
    base: dict[str, Any] = {
        "jobs_db": str(tmp_path / "jobs.sqlite"),
        "api_key_hashes": (hash_key(KEY),),
        "sync_timeout_s": 30.0,
    }
    return ServiceSettings(**(base | changes))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(service_settings(tmp_path), Settings(backend="offline"))
    with TestClient(app) as test_client:
        yield test_client


def poll(client: TestClient, job_id: str, *, until: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/summaries/{job_id}", headers=AUTH).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()
    return body


def test_small_text_gets_its_summary_in_the_reply(client: TestClient) -> None:
    response = client.post("/v1/summaries", json={"text": ARTICLE}, headers=AUTH)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["provenance"]["backend"] == "offline"
    assert summary["validation"]["figures_unsupported"] == 0
    job_url = response.headers["content-location"]
    assert client.get(job_url, headers=AUTH).json()["status"] == "done"


def test_wait_false_queues_a_job_that_is_polled_to_done(client: TestClient) -> None:
    response = client.post(
        "/v1/summaries", json={"text": ARTICLE, "wait": False, "format": "text"}, headers=AUTH
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] in ("queued", "running", "done")
    assert body["links"]["self"] == f"/v1/summaries/{body['id']}"
    assert response.headers["location"] == body["links"]["self"]
    job = poll(client, body["id"])
    assert job["status"] == "done"
    assert job["summary"]["headline"]["text"]
    assert job["input_ref"].startswith("sha256:")


def test_long_text_goes_to_the_queue(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path, sync_max_chars=50), Settings(backend="offline"))
    with TestClient(app) as client:
        response = client.post("/v1/summaries", json={"text": ARTICLE}, headers=AUTH)
        assert response.status_code == 202
        assert poll(client, response.json()["id"])["status"] == "done"


def test_a_failed_job_is_recorded_with_a_reference_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = FakeBackend()
    backend.enqueue(RuntimeError("boom"))
    app = create_app(service_settings(tmp_path), Settings(backend="fake"), backend=backend)
    with TestClient(app) as client:
        response = client.post("/v1/summaries", json={"text": ARTICLE, "wait": False}, headers=AUTH)
        job = poll(client, response.json()["id"])
    assert job["status"] == "failed"
    error = job["error"]
    assert error["reason"] == "internal_error"
    assert "boom" not in error["detail"]  # internal detail is logged, not shown
    assert error["reference_id"] and error["reference_id"] in caplog.text
    assert "boom" in caplog.text


def test_fast_path_failure_is_a_problem_with_the_reference_id(tmp_path: Path) -> None:
    backend = FakeBackend()
    backend.enqueue(RuntimeError("boom"))
    app = create_app(service_settings(tmp_path), Settings(backend="fake"), backend=backend)
    with TestClient(app) as client:
        body = assert_problem(
            client.post("/v1/summaries", json={"text": ARTICLE}, headers=AUTH), 500
        )
    assert body["reason"] == "internal_error" and body["reference_id"] and body["job_id"]


def test_idempotency_key_returns_the_same_job(client: TestClient) -> None:
    headers = AUTH | {"Idempotency-Key": "abc-1"}
    request = {"text": ARTICLE, "wait": False}
    first = client.post("/v1/summaries", json=request, headers=headers).json()
    second = client.post("/v1/summaries", json=request, headers=headers).json()
    assert first["id"] == second["id"]
    other = client.post(
        "/v1/summaries", json={"text": ARTICLE + " More.", "wait": False}, headers=headers
    )
    assert_problem(other, 422)
    poll(client, first["id"])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "Basic x"}, 401),
        (AUTH, 404),
    ],
    ids=["missing", "wrong", "not-bearer", "right"],
)
def test_api_key_is_required(client: TestClient, headers: dict[str, str], status: int) -> None:
    response = client.get("/v1/summaries/nope", headers=headers)
    body = assert_problem(response, status)
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["type"].endswith("unauthorized")


def test_jobs_belong_to_their_key(tmp_path: Path) -> None:
    service = service_settings(tmp_path, api_key_hashes=(hash_key(KEY), hash_key("other")))
    with TestClient(create_app(service, Settings(backend="offline"))) as client:
        job = client.post("/v1/summaries", json={"text": ARTICLE, "wait": False}, headers=AUTH)
        url = job.json()["links"]["self"]
        assert_problem(client.get(url, headers={"Authorization": "Bearer other"}), 404)
        poll(client, job.json()["id"])


def test_open_api_on_a_public_host_is_refused_unless_explicit(tmp_path: Path) -> None:
    public = service_settings(tmp_path, host="0.0.0.0", api_key_hashes=())
    with pytest.raises(ConfigurationError, match="--open"):
        create_app(public, Settings())
    explicit = service_settings(tmp_path, host="0.0.0.0", api_key_hashes=(), open_without_keys=True)
    create_app(explicit, Settings())
    create_app(service_settings(tmp_path, host="0.0.0.0"), Settings())  # keys: fine


def test_loopback_without_keys_is_open(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path, api_key_hashes=()), Settings())
    with TestClient(app) as client:
        assert client.post("/v1/summaries", json={"text": ARTICLE}).status_code == 200


def test_body_too_large_by_content_length(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path, max_body_bytes=1000), Settings())
    with TestClient(app) as client:
        response = client.post("/v1/summaries", json={"text": "x" * 2000}, headers=AUTH)
        assert assert_problem(response, 413)["type"].endswith("too-large")


def test_body_too_large_when_streamed(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path, max_body_bytes=1000), Settings())
    chunks = [b'{"text": "', b"x" * 800, b"x" * 800, b'"}']
    with TestClient(app) as client:
        response = client.post(
            "/v1/summaries",
            content=iter(chunks),
            headers=AUTH | {"Content-Type": "application/json"},
        )
        assert_problem(response, 413)


def test_article_too_long(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path, max_article_chars=100), Settings())
    with TestClient(app) as client:
        response = client.post("/v1/summaries", json={"text": ARTICLE}, headers=AUTH)
        assert assert_problem(response, 413)["type"].endswith("article-too-long")


def test_rate_limit_per_key_answers_429_with_retry_after(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path, rate_per_minute=2, rate_burst=2), Settings())
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/v1/summaries/x", headers=AUTH).status_code == 404
        response = client.get("/v1/summaries/x", headers=AUTH)
        assert_problem(response, 429)
        assert int(response.headers["retry-after"]) >= 1
        assert client.get("/healthz").status_code == 200  # not limited


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"text": ARTICLE, "url": "https://example.com/a"}, 422),
        ({"text": ""}, 422),
        ({"url": "ftp://example.com/a"}, 422),
        ({"text": ARTICLE, "format": "pdf"}, 422),
        ({"text": ARTICLE, "extra": 1}, 422),
    ],
    ids=["neither", "both", "empty", "not-http", "bad-format", "unknown-field"],
)
def test_invalid_requests_are_problem_json(
    client: TestClient, body: dict[str, Any], status: int
) -> None:
    problem = assert_problem(client.post("/v1/summaries", json=body, headers=AUTH), status)
    assert problem["errors"] and all("input" not in e for e in problem["errors"])


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/summaries", content=b"{not json", headers=AUTH | {"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


def test_whitespace_text_is_bad_input(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/summaries", json={"text": "   "}, headers=AUTH), 400)
    assert body["reason"] == "empty"


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404)


def test_healthz_readyz_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["store"] == "ok"
    assert ready.json()["backend"].startswith("offline/")
    assert client.post("/v1/summaries", json={"text": ARTICLE}, headers=AUTH).status_code == 200
    text = client.get("/metrics").text
    assert (
        'summariser_http_requests_total{method="POST",route="/v1/summaries",status="200"} 1.0'
        in text
    )
    assert "summariser_http_request_duration_seconds_bucket" in text
    assert 'summariser_jobs_total{kind="text",outcome="done"} 1.0' in text
    assert 'summariser_figures_total{verdict="unsupported"} 0.0' in text
    assert 'summariser_tokens_total{type="prompt"}' in text


def test_url_job_uses_fetch_article(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    fetch = pytest.importorskip("summariser.service.fetch")

    class Fetched:
        text = ARTICLE
        final_url = "https://example.com/final"
        title = "Corvel results"

    async def fake_fetch(url: str, *args: Any, **kwargs: Any) -> Fetched:
        return Fetched()

    monkeypatch.setattr(fetch, "fetch_article", fake_fetch)
    response = client.post("/v1/summaries", json={"url": "https://example.com/a"}, headers=AUTH)
    assert response.status_code == 200, response.text
    job = client.get(response.headers["content-location"], headers=AUTH).json()
    assert job["article"]["final_url"] == "https://example.com/final"
    assert job["input_ref"] == "https://example.com/a"


def test_committed_openapi_is_current() -> None:
    committed = (ROOT / "schemas" / "openapi.json").read_text(encoding="utf-8")
    assert committed == export_openapi(), (
        "schemas/openapi.json is stale: python -m summariser.service.app > schemas/openapi.json"
    )
    spec = json.loads(committed)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {"SUMMARISER_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/db"}, "job database"),
        ([], {"SUMMARISER_DATABASE_URL": "nosuchdriver://x"}, "job database"),
        (["--broker", "redis://:pw@127.0.0.1:1/0"], {}, "cannot reach the broker"),
        (["--broker", "http://not-redis"], {}, "not a Redis URL"),
    ],
)
def test_serve_refuses_a_store_or_broker_that_does_not_answer(
    args: list[str],
    env: dict[str, str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Exit 2 with the reason (and no password) before the server starts, not a traceback."""
    from typer.testing import CliRunner

    from summariser import cli

    monkeypatch.setenv("SUMMARISER_JOBS_DB", str(tmp_path / "jobs.sqlite"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("the server started"))
    result = CliRunner().invoke(cli.app, ["serve", "--port", "18999", *args])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and ":pw@" not in result.stderr


def test_serve_refuses_an_unknown_log_format() -> None:
    from typer.testing import CliRunner

    from summariser import cli

    result = CliRunner().invoke(cli.app, ["serve", "--log-format", "yaml"])
    assert result.exit_code == 2 and "log format" in result.stderr
