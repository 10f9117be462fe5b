"""The Slack bot end to end: signed requests through Starlette's TestClient, replies recorded
by a fake Slack on loopback (tests/service/fake_slack.py). No network."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from summariser.backends.base import Backend
from summariser.backends.fake import FakeBackend
from summariser.errors import BackendError, ConfigurationError
from summariser.service import fetch
from summariser.service.app import create_app
from summariser.service.settings import ServiceSettings, hash_key
from summariser.service.slack import allowed_reply_url, command_source, find_link, plain_text
from summariser.service.store import jobs
from summariser.settings import Settings
from tests.service.fake_slack import (
    SECRET,
    TOKEN,
    FakeSlack,
    SlowBackend,
    block_problems,
    signed_headers,
)

ARTICLE = (
    "Corvel Systems reported fourth-quarter revenue of $812 million, up 9% from a year earlier, "
    "and net income of $96 million. Shares rose 5% after the results."
)
LINK = "https://news.example.com/corvel-results"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def settings_for(tmp_path: Path, slack: FakeSlack, **changes: Any) -> ServiceSettings:
    base = ServiceSettings(
        jobs_db=str(tmp_path / "jobs.sqlite"),
        api_key_hashes=(hash_key("k"),),
        slack_signing_secret=SECRET,
        slack_bot_token=TOKEN,
        slack_api_url=slack.api_url,
    )
    return replace(base, **changes)


def client_for(
    tmp_path: Path, slack: FakeSlack, backend: Backend | None = None, **changes: Any
) -> TestClient:
    service = settings_for(tmp_path, slack, **changes)
    return TestClient(create_app(service, Settings(backend="offline"), backend=backend))


@pytest.fixture
def client(tmp_path: Path, slack: FakeSlack) -> Iterator[TestClient]:
    with client_for(tmp_path, slack) as test_client:
        yield test_client


def command(
    slack: FakeSlack, text: str, trigger: str = "13345224609.738474920.8088930838d88f008e0"
) -> str:
    return urlencode(
        {
            "token": "deprecated",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/summarise",
            "text": text,
            "response_url": slack.response_url(trigger[:8]),
            "trigger_id": trigger,
        }
    )


def event(inner: dict[str, Any], event_id: str = "Ev1") -> str:
    inner = {
        "type": "app_mention",
        "user": "U1",
        "channel": "C1",
        "ts": "1700000000.000100",
    } | inner
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000000,
            "event": inner,
        }
    )


def shortcut(slack: FakeSlack, message: dict[str, Any], trigger: str = "trig-s1") -> str:
    payload = {
        "type": "message_action",
        "callback_id": "summarise_message",
        "trigger_id": trigger,
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "message": {"type": "message", "user": "U2", "ts": "1700000000.000200"} | message,
        "response_url": slack.response_url("shortcut"),
    }
    return urlencode({"payload": json.dumps(payload)})


def post(client: TestClient, body: str, kind: dict[str, str] = FORM, **headers: str) -> Any:
    return client.post("/slack/events", content=body, headers=kind | signed_headers(body) | headers)


def job_count(client: TestClient) -> int:
    store = client.app.state.summariser.store  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one())


def settle(slack: FakeSlack, expected: int = 1, extra: float = 0.3) -> list[Any]:
    """Wait for ``expected`` replies, then a little longer, to catch a second one."""
    slack.wait_for(lambda s: len(s.replies()) >= expected)
    time.sleep(extra)
    return slack.replies()


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """fetch_article replaced: any link gives ARTICLE; the links asked are recorded."""
    asked: list[str] = []

    async def fake_fetch(url: str, **_: Any) -> fetch.FetchedArticle:
        asked.append(url)
        return fetch.FetchedArticle(
            url=url,
            final_url=url,
            status=200,
            content_type="text/html",
            text=ARTICLE,
            title="Corvel results",
            bytes_read=len(ARTICLE),
            redirects=0,
        )

    monkeypatch.setattr(fetch, "fetch_article", fake_fetch)
    return asked


# --- surfaces ------------------------------------------------------------------------------


def test_a_slash_command_is_acked_at_once_then_answered_once_with_blocks(
    tmp_path: Path, slack: FakeSlack
) -> None:
    with client_for(tmp_path, slack, backend=SlowBackend(1.0)) as client:
        started = time.perf_counter()
        response = post(client, command(slack, ARTICLE))
        acked = time.perf_counter() - started
        assert response.status_code == 200, response.text
        assert acked < 1.0  # the model takes a second a call: the ack does not wait for it
        ack = response.json()
        assert ack["response_type"] == "ephemeral" and ack["text"].startswith("Summarising")
        assert slack.replies() == []
        (reply,) = settle(slack)
    assert reply.method == "response_url"
    body = reply.params
    assert body["response_type"] == "in_channel" and body["replace_original"] is False
    assert block_problems(body["blocks"]) == []
    fields = [f["text"] for b in body["blocks"] for f in b.get("fields", [])]
    assert "$812 million :arrow_up: 9%" in fields and "$96 million" in fields
    job_id = ack["text"].split("`")[1]
    assert job_id in body["blocks"][-1]["elements"][0]["text"]


def test_a_slash_command_with_a_link_summarises_the_page(
    client: TestClient, slack: FakeSlack, fetched: list[str]
) -> None:
    response = post(client, command(slack, f"<{LINK}>"))
    assert response.status_code == 200
    (reply,) = settle(slack)
    assert fetched == [LINK]
    assert "$812 million" in json.dumps(reply.params["blocks"])


def test_a_mention_beside_a_link_is_answered_in_its_thread(
    client: TestClient, slack: FakeSlack, fetched: list[str]
) -> None:
    body = event({"text": f"<@UBOT> summarise <{LINK}|corvel>", "ts": "1700000000.000100"})
    response = post(client, body, JSON)
    assert response.status_code == 200, response.text
    (reply,) = settle(slack)
    assert fetched == [LINK]
    assert reply.method == "chat.postMessage"
    assert reply.params["channel"] == "C1" and reply.params["thread_ts"] == "1700000000.000100"
    assert reply.authorization == f"Bearer {TOKEN}"
    assert block_problems(reply.params["blocks"]) == []


def test_a_mention_in_a_thread_summarises_the_parent_messages_link(
    client: TestClient, slack: FakeSlack, fetched: list[str]
) -> None:
    slack.threads[("C1", "1700000000.000001")] = [{"text": f"Results are out: <{LINK}>"}]
    body = event(
        {"text": "<@UBOT> tl;dr?", "ts": "1700000000.000900", "thread_ts": "1700000000.000001"}
    )
    assert post(client, body, JSON).status_code == 200
    (reply,) = settle(slack)
    assert fetched == [LINK]
    assert reply.params["thread_ts"] == "1700000000.000001"


def test_a_mention_with_no_link_gets_a_polite_hint(client: TestClient, slack: FakeSlack) -> None:
    assert post(client, event({"text": "<@UBOT> hello"}), JSON).status_code == 200
    (reply,) = settle(slack)
    assert reply.method == "chat.postEphemeral" and reply.params["user"] == "U1"
    assert "no link" in reply.params["text"] and "reference" in reply.params["text"]


def test_the_message_shortcut_summarises_the_messages_text_in_its_thread(
    client: TestClient, slack: FakeSlack
) -> None:
    response = post(client, shortcut(slack, {"text": ARTICLE}))
    assert response.status_code == 200 and response.text == ""
    (reply,) = settle(slack)
    assert reply.method == "chat.postMessage"
    assert reply.params["thread_ts"] == "1700000000.000200"
    assert "$812 million" in json.dumps(reply.params["blocks"])


def test_a_shortcut_where_the_bot_may_not_post_answers_the_user_alone(
    client: TestClient, slack: FakeSlack
) -> None:
    slack.errors["chat.postMessage"] = "not_in_channel"
    assert post(client, shortcut(slack, {"text": ARTICLE})).status_code == 200
    slack.wait_for(lambda s: len(s.of("response_url")) == 1)
    assert slack.of("response_url")[0].params["response_type"] == "ephemeral"


# --- signatures, retries and replays -------------------------------------------------------


@pytest.mark.parametrize("kind", ["unsigned", "forged", "stale", "future", "other-body"])
def test_unsigned_forged_or_stale_requests_get_401_and_do_nothing(
    client: TestClient, slack: FakeSlack, kind: str
) -> None:
    body = command(slack, ARTICLE)
    now = int(time.time())
    headers = {
        "unsigned": {},
        "forged": signed_headers(body, secret="not-the-secret"),
        "stale": signed_headers(body, timestamp=now - 6 * 60),
        "future": signed_headers(body, timestamp=now + 6 * 60),
        "other-body": signed_headers(command(slack, "something else")),
    }[kind]
    response = client.post("/slack/events", content=body, headers=FORM | headers)
    assert response.status_code == 401
    time.sleep(0.2)
    assert job_count(client) == 0 and slack.replies() == []


def test_a_replayed_command_makes_no_second_job_or_reply(
    client: TestClient, slack: FakeSlack
) -> None:
    body = command(slack, ARTICLE)
    headers = FORM | signed_headers(body)
    first = client.post("/slack/events", content=body, headers=headers)
    again = client.post("/slack/events", content=body, headers=headers | {"X-Slack-Retry-Num": "1"})
    assert first.status_code == again.status_code == 200
    assert first.json()["text"] == again.json()["text"]  # the same job reference
    assert len(settle(slack, extra=0.5)) == 1 and job_count(client) == 1


def test_an_event_retried_with_the_same_event_id_is_answered_once(
    client: TestClient, slack: FakeSlack, fetched: list[str]
) -> None:
    body = event({"text": f"<@UBOT> <{LINK}>"}, event_id="Ev42")
    assert post(client, body, JSON).status_code == 200
    for attempt in (1, 2):
        retry = post(
            client,
            body,
            JSON,
            **{"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert retry.status_code == 200
    assert len(settle(slack, extra=0.5)) == 1 and job_count(client) == 1
    assert fetched == [LINK]


# --- failures and the product's promise ----------------------------------------------------


def test_a_backend_failure_reaches_the_user_politely_with_a_reference(
    tmp_path: Path, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    backend = FakeBackend()
    backend.enqueue(BackendError("upstream 503: secret detail", provider="fake"))
    with client_for(tmp_path, slack, backend=backend) as client:
        assert post(client, command(slack, ARTICLE)).status_code == 200
        (reply,) = settle(slack)
    body = reply.params
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("Sorry") and "secret detail" not in json.dumps(body)
    reference = body["text"].split("`")[1]
    assert any(reference in r.getMessage() for r in caplog.records)  # the log has the detail


def test_a_hallucinated_figure_is_marked_never_shown_as_fact(
    tmp_path: Path, slack: FakeSlack
) -> None:
    wrong = json.dumps(
        {
            "headline": "Corvel revenue jumps to $5.9 billion",
            "bullets": ["Revenue was $812 million, up 9%.", "Net income reached $390 million."],
            "metrics": [
                {
                    "entity": "Corvel Systems",
                    "metric": "net income",
                    "value": "$390 million",
                    "period": "fourth quarter",
                    "change": None,
                    "quote": "and net income of $96 million.",
                }
            ],
            "sentiment": {"label": "positive", "score": 0.5, "rationale": "growth", "evidence": []},
            "entities": [],
        }
    )
    backend = FakeBackend()
    backend.enqueue(wrong, wrong)  # the answer, and the same again after the re-ask
    with client_for(tmp_path, slack, backend=backend) as client:
        assert post(client, command(slack, ARTICLE)).status_code == 200
        (reply,) = settle(slack)
    blocks = reply.params["blocks"]
    assert block_problems(blocks) == []
    assert (
        blocks[0]["text"]["text"] == "Corvel revenue jumps to :warning: unsupported: $5.9 billion"
    )
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "*:warning: unsupported: $390 million*" in shown
    assert shown.count("$390 million") == shown.count("unsupported: $390 million") + shown.count(
        ":warning: _$390 million"
    )
    assert ":warning: unsupported: $5.9 billion" in reply.params["text"]


def test_every_reply_fits_slacks_limits_for_a_long_article(
    client: TestClient, slack: FakeSlack
) -> None:
    long_article = "\n\n".join(
        f"Unit {n} of Corvel Systems reported revenue of ${100 + n} million, up {n % 9 + 1}% "
        f"from a year earlier, and net income of ${10 + n} million."
        for n in range(150)
    )
    assert post(client, shortcut(slack, {"text": long_article})).status_code == 200
    (reply,) = settle(slack)
    assert reply.method == "chat.postMessage"
    assert block_problems(reply.params["blocks"]) == []
    assert len(reply.params["blocks"]) <= 50


# --- input checks, settings ----------------------------------------------------------------


def test_an_empty_command_gets_usage_and_no_job(client: TestClient, slack: FakeSlack) -> None:
    response = post(client, command(slack, "  "))
    assert response.status_code == 200 and "Usage" in response.json()["text"]
    assert job_count(client) == 0


def test_a_response_url_outside_slack_is_never_used(client: TestClient, slack: FakeSlack) -> None:
    body = command(slack, ARTICLE).replace("127.0.0.1", "203.0.113.9")
    response = post(client, body)
    assert response.status_code == 200 and "can't reply" in response.json()["text"]
    assert job_count(client) == 0


def test_url_verification_is_answered(client: TestClient) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    response = post(client, body, JSON)
    assert response.status_code == 200 and response.json() == {"challenge": "c-123"}


def test_without_slack_settings_there_is_no_slack_route(tmp_path: Path) -> None:
    service = ServiceSettings(jobs_db=str(tmp_path / "j.sqlite"))
    with TestClient(create_app(service, Settings(backend="offline"))) as client:
        assert client.post("/slack/events", content="x").status_code == 404


def test_slack_settings_come_from_the_environment() -> None:
    env = {
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SUMMARISER_SLACK_API_URL": "http://127.0.0.1:9/api",
    }
    service = ServiceSettings.from_env(env)
    assert service.slack_enabled and service.slack_api_url == "http://127.0.0.1:9/api/"
    assert "s3cret" not in repr(service) and "xoxb-1" not in repr(service)
    assert ServiceSettings.from_env({}).slack_api_url == "https://slack.com/api/"
    assert not ServiceSettings.from_env({}).slack_enabled
    with pytest.raises(ConfigurationError, match="SUMMARISER_SLACK_API_URL"):
        ServiceSettings.from_env(env | {"SUMMARISER_SLACK_API_URL": "http://slack.example/api/"})
    with pytest.raises(ConfigurationError, match="SLACK_BOT_TOKEN"):
        ServiceSettings.from_env({"SLACK_SIGNING_SECRET": "s"}).check_exposure()


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("see <https://a.example/x|a.example> now", "https://a.example/x"),
        ("<https://a.example/?a=1&amp;b=2>", "https://a.example/?a=1&b=2"),
        ("bare https://a.example/y works", "https://a.example/y"),
        ("<@U1> no link <#C1|general>", None),
        ("<mailto:x@example.com|x>", None),
    ],
)
def test_links_are_found_as_slack_writes_them(text: str, link: str | None) -> None:
    assert find_link(text) == link


def test_message_text_reads_as_plain_text() -> None:
    text = "<!here> <@U1|ann> see <https://a.example|the story> in <#C1|markets> &amp; &lt;3"
    assert plain_text(text) == "@ann see the story in #markets & <3"
    assert command_source(" https://a.example/z ") == {"url": "https://a.example/z"}
    assert command_source("Revenue rose to $5 million at https://a.example") == {
        "text": "Revenue rose to $5 million at https://a.example"
    }
    assert command_source("") is None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/commands/T1/1/abc", True),
        ("http://hooks.slack.com/commands/T1/1/abc", False),
        ("https://hooks.slack.com.evil.test/x", False),
        ("https://evil.test/x", False),
        ("http://127.0.0.1:9/response/1", True),  # the configured (fake) API host
        ("http://127.0.0.1:10/response/1", False),
    ],
)
def test_response_urls_go_only_to_slack_or_the_configured_api(url: str, allowed: bool) -> None:
    assert allowed_reply_url(url, "http://127.0.0.1:9/api/") is allowed
