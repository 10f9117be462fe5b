"""Slack in broker mode: ``summariser serve --broker`` takes the Slack request and records the
job; a Dramatiq worker (StubBroker here; real processes in test_worker_processes.py) runs it
and answers in Slack, once, however often its message is delivered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

dramatiq = pytest.importorskip("dramatiq")

from dramatiq.brokers.stub import StubBroker  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from summariser.service.app import create_app  # noqa: E402
from summariser.service.jobs import use_dispatch  # noqa: E402
from summariser.service.settings import ServiceSettings, hash_key  # noqa: E402
from summariser.service.store import JobStore, NewJob, jobs  # noqa: E402
from summariser.settings import Settings  # noqa: E402
from summariser.workers.actors import QUEUE_NAME, declare, runtime_from_env, use_runtime  # noqa: E402
from summariser.workers.broker import add_middleware  # noqa: E402
from tests.service.fake_slack import SECRET, TOKEN, FakeSlack, signed_headers  # noqa: E402

ARTICLE = (
    "Halvorsen Marine said quarterly revenue rose 12% to $1.4 billion and net income was "
    "$210 million; it raised its dividend to 45 cents a share."
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class World:
    """The fake Slack, a StubBroker worker whose runtime comes from the environment (as in a
    real worker process), and the service in broker mode sending to it."""

    def __init__(self, tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.slack = slack
        db = tmp_path / "jobs.sqlite"
        for name in (
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "SUMMARISER_BACKEND",
            "SLACK_SIGNING_SECRET",
        ):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SUMMARISER_DATABASE_URL", f"sqlite:///{db}")
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)  # workers answer: the token is enough
        monkeypatch.setenv("SUMMARISER_SLACK_API_URL", slack.api_url)
        self.broker = StubBroker()
        add_middleware(self.broker)
        self.broker.emit_after("process_boot")
        self.actor = declare(self.broker, max_retries=1, min_backoff_ms=10, max_backoff_ms=20)
        self.worker = dramatiq.Worker(self.broker, worker_timeout=50)
        self.worker.start()
        use_runtime(runtime_from_env)
        self.store = JobStore(f"sqlite:///{db}")
        self.store.create_schema()
        use_dispatch(self.actor.send)
        service = ServiceSettings(
            database_url=f"sqlite:///{db}",
            api_key_hashes=(hash_key("k"),),
            slack_signing_secret=SECRET,
            slack_bot_token=TOKEN,
            slack_api_url=slack.api_url,
        )
        self.client = TestClient(create_app(service, Settings(backend="offline")))
        self.client.__enter__()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        use_dispatch(None)
        self.worker.stop()
        self.broker.close()
        use_runtime(None)
        self.store.close()

    def command(self, text: str, trigger: str) -> Any:
        from urllib.parse import urlencode

        body = urlencode(
            {
                "team_id": "T1",
                "channel_id": "C1",
                "user_id": "U1",
                "command": "/summarise",
                "text": text,
                "response_url": self.slack.response_url(trigger),
                "trigger_id": trigger,
            }
        )
        headers = FORM | signed_headers(body)
        return self.client.post("/slack/events", content=body, headers=headers)

    def drain(self) -> None:
        self.broker.join(QUEUE_NAME, timeout=20_000)
        self.worker.join()

    def only_job(self) -> Any:
        with self.store.engine.connect() as conn:
            (row,) = conn.execute(jobs.select()).mappings().all()
        return row


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with FakeSlack() as slack:
        made = World(tmp_path, slack, monkeypatch)
        try:
            yield made
        finally:
            made.close()


def test_a_slash_command_is_run_by_a_worker_and_answered_once(world: World) -> None:
    response = world.command(ARTICLE, "trig-1")
    assert response.status_code == 200 and response.json()["text"].startswith("Summarising")
    world.drain()
    (reply,) = world.slack.replies()
    assert reply.method == "response_url" and reply.params["response_type"] == "in_channel"
    assert "$1.4 billion" in str(reply.params["blocks"])
    job = world.only_job()
    assert (job["status"], job["reply_status"], job["reply"]) == ("done", "sent", None)
    # Slack retries the request and Redis redelivers the message: no second job, no reply
    assert world.command(ARTICLE, "trig-1").status_code == 200
    world.actor.send(job["id"])
    world.drain()
    time.sleep(0.2)
    assert len(world.slack.replies()) == 1
    assert len(world.store.pending_replies()) == 0


def test_a_redelivered_message_sends_the_answer_a_dead_worker_owed(world: World) -> None:
    target = {
        "surface": "command",
        "channel": "C1",
        "user": "U1",
        "response_url": world.slack.response_url("owed"),
    }
    new = NewJob(
        "slack", "slack:T1:U1", {"source": {"text": ARTICLE}}, "ref", "f" * 64, "k", target
    )
    job = world.store.create(new)[0]
    lease = world.store.claim_lease(job.id, lease=timedelta(seconds=30))
    assert lease is not None
    assert world.store.end(lease, status="failed", reason="backend_error", error="down")
    # ... and the worker died here, before answering; Redis hands the message to another
    world.actor.send(job.id)
    world.drain()
    (reply,) = world.slack.replies()
    assert reply.params["response_type"] == "ephemeral"  # a failure goes to the user alone
    assert world.only_job()["reply_status"] == "sent"


def test_a_stale_slack_job_expires_without_an_answer(world: World) -> None:
    target = {"surface": "mention", "channel": "C1", "user": "U1", "thread_ts": "1.2"}
    new = NewJob(
        "slack", "slack:T1:U1", {"source": {"text": ARTICLE}}, "ref", "f" * 64, "k2", target
    )
    job = world.store.create(new)[0]
    with world.store.engine.begin() as conn:
        old = datetime.now(UTC) - timedelta(minutes=20)
        conn.execute(jobs.update().where(jobs.c.id == job.id).values(created_at=old))
    world.actor.send(job.id)
    world.drain()
    time.sleep(0.2)
    assert world.slack.replies() == []
    row = world.only_job()
    assert (row["status"], row["reply_status"], row["reply"]) == ("expired", "skipped", None)


def test_readyz_reports_a_broker_that_does_not_answer(world: World) -> None:
    class DeadBroker:
        def __call__(self, job_id: str) -> None:
            raise AssertionError("not sent")

        def ping(self) -> None:
            raise ConnectionError("refused")

    assert world.client.get("/readyz").status_code == 200  # the stub's send has no ping
    queue = world.client.app.state.summariser.queue  # type: ignore[attr-defined]
    queue._dispatch = DeadBroker()
    response = world.client.get("/readyz")
    assert response.status_code == 503 and "broker" in response.json()["detail"]
