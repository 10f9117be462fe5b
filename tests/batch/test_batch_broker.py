"""``summariser batch --broker``: articles as jobs for the workers, without Redis.

The workers are faked by a dispatch function that runs the real ``actors.run_job`` on the job
(in the sending thread, with a ``Runtime`` of scripted handlers on the offline backend) against
a real SQLite job store: outcomes (done, failed, dead, expired), the quota stop, resumes that
make no duplicate job, idempotency keys, and the command line's checks of its URLs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dramatiq")

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from summariser.backends.offline import OfflineBackend
from summariser.batch.inputs import Article
from summariser.batch.remote import RUNNER, RemoteSummaries, _Poller
from summariser.batch.runner import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_STOPPED,
    BatchJob,
    BatchResult,
    run_batch,
    run_batch_with,
)
from summariser.batch_command import batch_app
from summariser.errors import (
    BackendError,
    InputError,
    InvalidOutputError,
    QuotaExceededError,
    RefusalError,
)
from summariser.service.jobs import summarise_handlers
from summariser.service.store import JobStore, jobs
from summariser.settings import Settings
from summariser.workers.actors import RetryableJobError, Runtime, run_job

OFFLINE = Settings(backend="offline")
ERRORS: dict[str, Exception] = {
    "QUOTA": QuotaExceededError("insufficient_quota"),
    "REFUSE": RefusalError("the model refused"),
    "GARBLED": InvalidOutputError("no valid JSON after re-asks"),
    "FLAKY": BackendError("503 from the server"),  # transient: retried, then dead
}


def article(n: int, marker: str = "") -> str:
    return (
        f"Acme Corp said revenue rose {n % 9 + 2} percent to ${n + 1}.5 billion. "
        f"Profit was ${n + 20} million. {marker}"
    )


class Workers:
    """A fake dispatch: ``send(job_id)`` runs the job with ``run_job`` there and then (retries
    included), or only records it when ``up`` is false (the workers are down)."""

    def __init__(
        self,
        store: JobStore,
        *,
        up: bool = True,
        fail: bool = True,
        max_retries: int = 1,
        max_age: timedelta = timedelta(hours=1),
    ) -> None:
        offline = summarise_handlers(OFFLINE, OfflineBackend(), max_article_chars=100_000)["text"]
        self.calls = 0

        async def handler(payload: Mapping[str, Any]) -> dict[str, Any]:
            self.calls += 1
            for marker, error in ERRORS.items():
                if fail and marker in str(payload["text"]):
                    raise error
            return await offline(payload)

        self.runtime = Runtime(
            store=store,
            handlers={"text": handler},
            lease=timedelta(seconds=30),
            default_max_age=max_age,
            max_ages={},
        )
        self.up = up
        self.max_retries = max_retries
        self.sent: list[str] = []

    def __call__(self, job_id: str) -> None:
        self.sent.append(job_id)
        if self.up:
            self.deliver(job_id)

    def deliver(self, job_id: str) -> None:
        for attempt in range(self.max_retries + 1):
            try:
                asyncio.run(run_job(self.runtime, job_id, attempt=attempt, max_retries=1))
                return
            except RetryableJobError:
                continue


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    made = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    made.create_schema()
    yield made
    made.close()


def write_input(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": f"a{i}", "text": text, "desk": "m"}) + "\n")
    return path


def records(path: Path) -> dict[str, dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [json.loads(line) for line in lines]
    by_id = {str(r["line"] if r["id"] is None else r["id"]): r for r in found}
    assert len(by_id) == len(found), "an item has two records"
    return by_id


def source(store: JobStore, dispatch: Any, **options: Any) -> RemoteSummaries:
    return RemoteSummaries(store, dispatch, poll_s=0.01, **options)


def run(job: BatchJob, store: JobStore, dispatch: Any, **options: Any) -> BatchResult:
    async def go() -> BatchResult:
        remote = source(store, dispatch, **options)
        try:
            return await run_batch_with(job, remote)
        finally:
            await remote.aclose()

    return asyncio.run(go())


def rows(store: JobStore) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(jobs)).mappings()]


# --- outcomes ---------------------------------------------------------------------------------


def test_every_article_is_one_job_and_one_record_as_in_process(
    tmp_path: Path, store: JobStore
) -> None:
    texts = [article(i) for i in range(5)] + [article(0)]  # a0 and a5: one text, one job
    inputs = write_input(tmp_path / "in.jsonl", texts)
    with inputs.open("a") as out:
        out.write("not json\n")
    workers = Workers(store)
    job = BatchJob(inputs, tmp_path / "out.jsonl", concurrency=3)
    result = run(job, store, workers)

    assert result.exit_code == EXIT_SOME_FAILED  # the bad line only
    out = records(job.output)
    assert out["7"]["reason"] == "invalid_json_line"
    oks = {key: r for key, r in out.items() if r["status"] == "ok"}
    assert sorted(oks) == [f"a{i}" for i in range(6)]
    assert all(r["metadata"] == {"desk": "m"} for r in oks.values())
    assert sorted(r["cached"] for r in oks.values()) == [False] * 5 + [True]

    made = rows(store)
    assert len(made) == 5 == workers.calls == len(set(workers.sent))
    assert {(r["kind"], r["status"]) for r in made} == {("text", "done")}
    assert len({r["owner"] for r in made}) == 1 and made[0]["owner"].startswith("batch:")
    assert result.stats.models == {"offline-v1": 5}
    assert result.stats.usage.prompt_tokens > 0  # from the summaries' provenance

    # The same articles summarised here give the same records, but for the timings.
    local = asyncio.run(
        run_batch(BatchJob(inputs, tmp_path / "local.jsonl"), OFFLINE, OfflineBackend())
    )
    assert local.stats.usage == result.stats.usage
    here = records(tmp_path / "local.jsonl")
    for key, record in oks.items():
        assert _without_timings(record) == _without_timings(here[key])


def _without_timings(record: dict[str, Any]) -> dict[str, Any]:
    summary = json.loads(json.dumps(record["summary"]))
    provenance = summary["provenance"]
    provenance.pop("latency_s")
    for attempt in provenance["attempts"]:
        attempt.pop("latency_s")
    return {**record, "summary": summary, "cached": None}


def test_failed_dead_and_expired_jobs_are_error_records(tmp_path: Path, store: JobStore) -> None:
    texts = [article(0), article(1, "REFUSE"), article(2, "GARBLED"), article(3, "FLAKY")]
    inputs = write_input(tmp_path / "in.jsonl", texts)
    workers = Workers(store)
    job = BatchJob(inputs, tmp_path / "out.jsonl", concurrency=2)
    result = run(job, store, workers)

    out = records(job.output)
    assert out["a0"]["status"] == "ok"
    assert (out["a1"]["reason"], out["a2"]["reason"]) == ("refusal", "invalid_output")
    assert out["a3"]["reason"] == "backend_error"  # dead: retried, then given up
    assert "gave up after 2 attempts: 503 from the server" in out["a3"]["message"]
    assert "[job " in out["a3"]["message"] and "reference " in out["a3"]["message"]
    assert result.exit_code == EXIT_SOME_FAILED
    assert result.totals.reasons == {"refusal": 1, "invalid_output": 1, "backend_error": 1}
    assert {r["status"] for r in rows(store)} == {"done", "failed", "dead"}

    late = write_input(tmp_path / "late.jsonl", [article(9)])
    expiring = Workers(store, max_age=timedelta(0))
    expired = run(BatchJob(late, tmp_path / "late.out.jsonl"), store, expiring)
    [record] = records(tmp_path / "late.out.jsonl").values()
    assert record["reason"] == "backend_error" and "expired" in record["message"]
    assert expired.exit_code == EXIT_SOME_FAILED and expiring.calls == 0


def test_quota_stops_the_run_and_the_resume_asks_again(tmp_path: Path, store: JobStore) -> None:
    texts = [article(0), article(1), article(2, "QUOTA"), article(3), article(4)]
    inputs = write_input(tmp_path / "in.jsonl", texts)
    job = BatchJob(inputs, tmp_path / "out.jsonl", concurrency=1)
    stopped = run(job, store, Workers(store))
    assert stopped.exit_code == EXIT_STOPPED and isinstance(stopped.stopped, QuotaExceededError)
    assert sorted(records(job.output)) == ["a0", "a1"]  # a2 met the quota: no record

    again = run(job, store, Workers(store))  # the same job, the account fixed: still refused
    assert again.exit_code == EXIT_STOPPED and again.stats.already_done == 2

    fixed = Workers(store, fail=False)
    resumed = run(job, store, fixed)
    assert resumed.exit_code == EXIT_OK and resumed.stats.already_done == 2
    assert sorted(records(job.output)) == [f"a{i}" for i in range(5)]
    by_status = sorted((r["status"], r["reason"]) for r in rows(store))
    # Each article once, but a2: one job per run that asked for it (two stopped the run).
    assert by_status == [("done", None)] * 5 + [("failed", "backend_quota")] * 2
    assert fixed.calls == 3


# --- resumes and idempotency ------------------------------------------------------------------


def test_a_killed_run_resumes_without_duplicate_jobs(tmp_path: Path, store: JobStore) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(i) for i in range(6)])
    job = BatchJob(inputs, tmp_path / "out.jsonl", concurrency=4)
    down = Workers(store, up=False)

    async def killed() -> None:
        remote = source(store, down)
        task = asyncio.create_task(run_batch_with(job, remote))
        while len(down.sent) < 4:  # four jobs made and sent, none taken
            await asyncio.sleep(0.01)
        task.cancel()  # Ctrl-C
        with pytest.raises(asyncio.CancelledError):
            await task
        await remote.aclose()

    asyncio.run(killed())
    assert job.output.read_text() == "" and len(rows(store)) == 4
    meanwhile = Workers(store)
    for job_id in down.sent[:2]:  # the workers come back and end two of them
        meanwhile.deliver(job_id)

    workers = Workers(store)
    resumed = run(job, store, workers)
    assert resumed.exit_code == EXIT_OK
    assert sorted(records(job.output)) == [f"a{i}" for i in range(6)]
    assert len(rows(store)) == 6  # four found again, two new
    assert set(down.sent[:2]).isdisjoint(workers.sent)  # ended meanwhile: picked up, not sent
    assert set(down.sent[2:]) <= set(workers.sent)  # still queued: sent again
    assert len(workers.sent) == 4 and workers.calls == 4

    again = Workers(store)
    finished = run(job, store, again)
    assert finished.stats.already_done == 6 and again.sent == [] and len(rows(store)) == 6


def test_another_batch_job_makes_its_own_jobs(tmp_path: Path, store: JobStore) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(0), article(1)])
    first = BatchJob(inputs, tmp_path / "one.jsonl")
    run(first, store, Workers(store))
    assert len(rows(store)) == 2

    other = Workers(store)  # another job of the same input: its own jobs
    run(BatchJob(inputs, tmp_path / "two.jsonl"), store, other)
    assert len(rows(store)) == 4 and other.calls == 2

    fresh = Workers(store)  # --fresh: a new job, but the state's cache stays (as in process)
    again = run(BatchJob(inputs, first.output, fresh=True), store, fresh)
    assert len(rows(store)) == 4 and fresh.sent == [] and again.stats.cached == 2


def test_one_job_per_batch_item_and_text(store: JobStore) -> None:
    workers = Workers(store)

    async def ask(batch_id: str, *articles: Article) -> None:
        remote = source(store, workers)
        await remote.open(batch_id)
        for one in articles:
            await remote.summarise(one)
        await remote.aclose()

    a0, a1 = Article("a0", article(0), line=1), Article("a1", article(1), line=2)
    asyncio.run(ask("batch-1", a0, a1, a0))
    assert len(rows(store)) == 2 and workers.calls == 2  # a0 asked twice: found again
    asyncio.run(ask("batch-1", Article("a1", article(7), line=2)))  # a1's text edited
    asyncio.run(ask("batch-2", a0))  # another batch job
    assert len(rows(store)) == 4 and workers.calls == 4
    keys = [r["idempotency_key"] for r in rows(store)]
    assert all(k.startswith("batch:batch-1:") for k in keys[:3]) and len(set(keys)) == 4
    assert {r["owner"] for r in rows(store)} == {"batch:batch-1", "batch:batch-2"}


def test_a_job_runs_on_the_runner_it_started_with(tmp_path: Path, store: JobStore) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(0)])
    job = BatchJob(inputs, tmp_path / "out.jsonl")
    asyncio.run(run_batch(job, OFFLINE, OfflineBackend()))
    with pytest.raises(InputError, match=f"started with runner 'in-process', not '{RUNNER}'"):
        run(job, store, Workers(store))


# --- the workers' store or broker going away --------------------------------------------------


def test_a_broker_that_stops_answering_stops_the_run_and_it_resumes(
    tmp_path: Path, store: JobStore
) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(i) for i in range(3)])
    job = BatchJob(inputs, tmp_path / "out.jsonl", concurrency=1)
    sent: list[str] = []

    def broken(job_id: str) -> None:
        sent.append(job_id)
        raise ConnectionError("Connection refused")

    stopped = run(job, store, broken, outage_s=0.3)
    assert stopped.exit_code == EXIT_STOPPED and "the broker stopped answering" in str(
        stopped.stopped
    )
    assert job.output.read_text() == "" and len(rows(store)) == 1

    workers = Workers(store)
    resumed = run(job, store, workers)
    assert resumed.exit_code == EXIT_OK and len(records(job.output)) == 3
    assert len(rows(store)) == 3 and workers.sent[0] == sent[0]  # the unsent job sent now


def test_a_job_database_that_stops_answering_stops_the_run(
    tmp_path: Path, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(i) for i in range(3)])
    job = BatchJob(inputs, tmp_path / "out.jsonl")

    def lost(*args: object) -> list[object]:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patched:
        patched.setattr(_Poller, "_read", lost)
        stopped = run(job, store, Workers(store, up=False), outage_s=0.1)
    assert stopped.exit_code == EXIT_STOPPED
    assert "the job database stopped answering: server closed the connection" in str(
        stopped.stopped
    )
    assert job.output.read_text() == ""
    workers = Workers(store)
    resumed = run(job, store, workers)
    assert resumed.exit_code == EXIT_OK and len(rows(store)) == 3 and len(workers.sent) == 3


def test_queued_jobs_nobody_takes_are_reported(tmp_path: Path, store: JobStore) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(0)])
    notices: list[str] = []

    async def waiting() -> None:
        remote = source(store, Workers(store, up=False), stall_s=0.05, on_notice=notices.append)
        task = asyncio.create_task(run_batch_with(BatchJob(inputs, tmp_path / "o.jsonl"), remote))
        for _ in range(500):
            if notices:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await remote.aclose()

    asyncio.run(waiting())
    assert len(notices) == 1 and "no worker has taken one" in notices[0]


# --- the command line -------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(batch_app, list(args))
    return result.exit_code, result.output


def test_an_unreachable_broker_exits_2_before_anything_runs(tmp_path: Path) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(0)])
    database = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    out = tmp_path / "out.jsonl"
    code, output = invoke(
        str(inputs), "-o", str(out), "--broker", "redis://127.0.0.1:1/0", "--database-url", database
    )
    assert code == 2 and "cannot reach the broker at redis://127.0.0.1:1/0" in output
    assert "Traceback" not in output and not out.exists()


def test_the_broker_url_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(0)])
    monkeypatch.setenv("SUMMARISER_BROKER_URL", "redis://:secret@127.0.0.1:1/0")
    monkeypatch.setenv("SUMMARISER_JOBS_DB", str(tmp_path / "env-jobs.sqlite"))
    code, output = invoke(str(inputs), "-o", str(tmp_path / "out.jsonl"), "-q")
    assert code == 2 and "redis://:***@127.0.0.1:1/0" in output and "secret" not in output
    assert (tmp_path / "env-jobs.sqlite").exists()  # SUMMARISER_JOBS_DB: the store's default


def test_an_unreachable_database_exits_2(tmp_path: Path) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(0)])
    code, output = invoke(
        str(inputs),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--broker",
        "redis://127.0.0.1:1/0",
        "--database-url",
        "postgresql://postgres:pw@127.0.0.1:1/jobs",
    )
    assert (
        code == 2
        and "cannot use the job database postgresql://postgres:***@127.0.0.1:1/jobs" in output
    )
    assert "pw@" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database-url", "sqlite:///x.sqlite"], "--database-url is the workers' job store"),
        (["--broker", "redis://127.0.0.1:1/0", "--model", "m", "--rpm", "5"], "--model, --rpm:"),
    ],
    ids=["database-without-broker", "local-options-with-broker"],
)
def test_options_that_do_not_fit_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    inputs = write_input(tmp_path / "in.jsonl", [article(0)])
    code, output = invoke(str(inputs), "-o", str(tmp_path / "out.jsonl"), *args)
    assert code == 2 and message in output


def test_help_names_the_broker_options() -> None:
    code, output = invoke("run", "--help")
    assert code == 0 and "--broker" in output and "--database-url" in output
    assert "jobs outstanding at once" in " ".join(output.split())
