"""The batch runner: records, the cache, quota stops and resumes, with scripted backends."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from summariser.backends.base import Completion, CompletionRequest
from summariser.backends.offline import OfflineBackend
from summariser.batch.runner import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_STOPPED,
    BatchJob,
    BatchResult,
    run_batch,
)
from summariser.errors import InputError, InvalidOutputError, QuotaExceededError
from summariser.schema import Usage
from summariser.settings import Settings

SETTINGS = Settings(backend="fake")


def article(n: int) -> str:
    return f"Acme Corp said revenue rose {n % 9 + 2} percent to ${n + 1}.5 billion. Profit was ${n + 20} million."


class UsageBackend:
    """Offline answers with a fixed usage per call; raises ``errors[call number]`` when set."""

    name = "fake"

    def __init__(self, errors: dict[int, Exception] | None = None, model: str = "fake-1") -> None:
        self.model = model
        self.calls = 0
        self.errors = errors or {}
        self._offline = OfflineBackend()

    async def complete(self, request: CompletionRequest) -> Completion:
        self.calls += 1
        if self.calls in self.errors:
            raise self.errors[self.calls]
        answer = await self._offline.complete(request)
        return Completion(
            answer.content, "stop", Usage(prompt_tokens=100, completion_tokens=10), self.model
        )


def write_input(path: Path, texts: list[str], **extra: Any) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": f"a{i}", "text": text, **extra}) + "\n")
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(job: BatchJob, backend: Any) -> BatchResult:
    return asyncio.run(run_batch(job, SETTINGS, backend))


def test_every_article_gets_a_record_in_input_order_of_ids(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(i) for i in range(12)], desk="m")
    job = BatchJob(source, tmp_path / "out.jsonl", concurrency=3)
    result = run(job, UsageBackend())
    out = records(job.output)
    assert sorted(r["id"] for r in out) == sorted(f"a{i}" for i in range(12))
    assert all(r["status"] == "ok" and r["metadata"] == {"desk": "m"} for r in out)
    assert all(r["cached"] is False for r in out)
    assert result.exit_code == EXIT_OK and result.stats.ok == 12
    assert result.stats.usage == Usage(prompt_tokens=1200, completion_tokens=120)
    assert (tmp_path / "out.jsonl.state.sqlite").exists()


def test_a_repeated_article_within_a_job_costs_nothing(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(1)] * 5)
    backend = UsageBackend()
    job = BatchJob(source, tmp_path / "out.jsonl", concurrency=5)
    result = run(job, backend)
    assert backend.calls == 1
    assert sorted(r["cached"] for r in records(job.output)) == [False, True, True, True, True]
    assert result.stats.cached == 4 and result.stats.usage.prompt_tokens == 100


def test_a_shared_cache_serves_the_next_job_at_zero_tokens(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(i) for i in range(4)])
    cache = tmp_path / "cache.sqlite"
    first = run(BatchJob(source, tmp_path / "one.jsonl", cache=cache), UsageBackend())
    backend = UsageBackend()
    second = run(BatchJob(source, tmp_path / "two.jsonl", cache=cache), backend)
    assert first.stats.usage.prompt_tokens == 400
    assert backend.calls == 0 and second.stats.usage == Usage() and second.stats.cached == 4
    one, two = records(tmp_path / "one.jsonl"), records(tmp_path / "two.jsonl")
    assert [r["summary"] for r in one] == [r["summary"] for r in two]


def test_another_model_misses_the_cache(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(1)])
    cache = tmp_path / "cache.sqlite"
    run(BatchJob(source, tmp_path / "one.jsonl", cache=cache), UsageBackend())
    backend = UsageBackend(model="fake-2")
    run(BatchJob(source, tmp_path / "two.jsonl", cache=cache), backend)
    assert backend.calls == 1


def test_a_backend_error_is_a_record_and_the_job_goes_on(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(i) for i in range(3)])
    backend = UsageBackend({1: InvalidOutputError("no valid JSON after re-asks")})
    job = BatchJob(source, tmp_path / "out.jsonl", concurrency=1)
    result = run(job, backend)
    out = records(job.output)
    assert [r["status"] for r in out] == ["error", "ok", "ok"]
    assert out[0]["reason"] == "invalid_output" and out[0]["line"] == 1
    assert result.exit_code == EXIT_SOME_FAILED and result.totals.reasons == {"invalid_output": 1}


def test_quota_stops_cleanly_and_the_same_job_resumes(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(i) for i in range(10)])
    job = BatchJob(source, tmp_path / "out.jsonl", concurrency=1)
    stopped = run(job, UsageBackend({4: QuotaExceededError("insufficient_quota")}))
    assert stopped.exit_code == EXIT_STOPPED and isinstance(stopped.stopped, QuotaExceededError)
    done = records(job.output)
    assert [r["id"] for r in done] == ["a0", "a1", "a2"]  # a3 hit the quota: no record
    backend = UsageBackend()
    resumed = run(job, backend)
    assert backend.calls == 7 and resumed.stats.already_done == 3
    assert resumed.exit_code == EXIT_OK
    assert sorted(r["id"] for r in records(job.output)) == sorted(f"a{i}" for i in range(10))


def test_a_finished_job_run_again_does_nothing(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(i) for i in range(3)])
    job = BatchJob(source, tmp_path / "out.jsonl")
    run(job, UsageBackend())
    backend = UsageBackend()
    again = run(job, backend)
    assert backend.calls == 0 and again.stats.written == 0 and again.stats.already_done == 3
    assert len(records(job.output)) == 3


def test_a_resume_with_another_model_is_refused_unless_fresh(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(1)])
    job = BatchJob(source, tmp_path / "out.jsonl")
    run(job, UsageBackend())
    with pytest.raises(InputError, match="started with model 'fake-1'"):
        run(job, UsageBackend(model="fake-2"))
    fresh = run(BatchJob(source, job.output, fresh=True), UsageBackend(model="fake-2"))
    assert fresh.stats.written == 1 and len(records(job.output)) == 1


def test_duplicate_ids_are_refused_before_any_request(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(json.dumps({"id": "x", "text": article(i)}) for i in range(2)) + "\n"
    )
    backend = UsageBackend()
    with pytest.raises(InputError, match=r"'x' appears on line 1 and line 2"):
        run(BatchJob(source, tmp_path / "out.jsonl"), backend)
    assert backend.calls == 0
    deduped = run(BatchJob(source, tmp_path / "out.jsonl", dedupe=True), backend)
    assert deduped.stats.written == 1 and deduped.stats.total == 1


def test_an_existing_output_without_state_is_not_overwritten(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", [article(1)])
    (tmp_path / "out.jsonl").write_text("precious\n")
    with pytest.raises(InputError, match="--fresh"):
        run(BatchJob(source, tmp_path / "out.jsonl"), UsageBackend())
    assert (tmp_path / "out.jsonl").read_text() == "precious\n"


def test_a_folder_input_runs_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "one.txt").write_text(article(1))
    (folder / "two.html").write_text(f"<html><body><p>{article(2)}</p></body></html>")
    (folder / "bad.md").write_bytes(b"\x00\x00")
    result = run(BatchJob(folder, tmp_path / "out.jsonl"), UsageBackend())
    by_id = {r["id"]: r for r in records(tmp_path / "out.jsonl")}
    assert by_id["one.txt"]["status"] == by_id["two.html"]["status"] == "ok"
    assert by_id["bad.md"]["reason"] == "binary"
    assert result.exit_code == EXIT_SOME_FAILED
