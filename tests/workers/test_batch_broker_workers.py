"""``summariser batch --broker`` with a real Redis and a real ``dramatiq`` worker process.

The worker's broker set-up is :func:`setup_worker` below (this module is imported by the
``dramatiq`` command line, by file name): the offline backend, and a handler that refuses the
articles marked ``REFUSE``. The batch command runs in this process (typer's CliRunner) with its
own Redis key namespace, deleted afterwards, and a SQLite job store it shares with the worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

redis = pytest.importorskip("redis")
pytest.importorskip("dramatiq")

import sqlalchemy as sa  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from summariser.backends.offline import OfflineBackend  # noqa: E402
from summariser.batch_command import batch_app  # noqa: E402
from summariser.errors import RefusalError  # noqa: E402
from summariser.service.jobs import summarise_handlers  # noqa: E402
from summariser.service.store import JobStore, jobs  # noqa: E402
from summariser.settings import Settings  # noqa: E402
from summariser.workers import BROKER_URL_ENV, NAMESPACE_ENV  # noqa: E402
from summariser.workers.actors import Runtime, use_runtime  # noqa: E402
from summariser.workers.broker import install, make_broker  # noqa: E402
from tests import servers  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DATABASE_ENV = "SUMMARISER_DATABASE_URL"


# --- what runs inside the worker process --------------------------------------------------


def setup_worker() -> None:
    """The dramatiq command line's broker set-up in the worker process of this test."""
    install(make_broker(os.environ[BROKER_URL_ENV], namespace=os.environ[NAMESPACE_ENV]))
    use_runtime(_worker_runtime)


def _worker_runtime() -> Runtime:
    offline = summarise_handlers(
        Settings(backend="offline"), OfflineBackend(), max_article_chars=100_000
    )["text"]

    async def text(payload: Mapping[str, Any]) -> dict[str, Any]:
        if "REFUSE" in str(payload["text"]):
            raise RefusalError("the model refused")
        return await offline(payload)

    return Runtime(store=JobStore(os.environ[DATABASE_ENV]), handlers={"text": text})


# --- the test -------------------------------------------------------------------------------


@pytest.fixture
def worker(redis_url: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """One worker process; yields (broker URL, namespace, database URL)."""
    namespace = f"summariser-test-{uuid.uuid4().hex}"
    database = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    store = JobStore(database)
    store.create_schema()  # before the worker's first job (the batch command makes it too)
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUMMARISER_", "OPENAI_"))}
    env.update(
        {
            BROKER_URL_ENV: redis_url,
            NAMESPACE_ENV: namespace,
            DATABASE_ENV: database,
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(REPO)]),
        }
    )
    log = tmp_path / "worker.log"
    module = f"{Path(__file__).stem}:setup_worker"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", module, "-p", "1", "-t", "4"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while "ready for action" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield redis_url, namespace, database
    finally:
        servers.stop_process(process)
        servers.delete_keys(redis_url, namespace)


def test_every_line_gets_one_record_from_the_workers(
    worker: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, namespace, database = worker
    monkeypatch.setenv(NAMESPACE_ENV, namespace)
    monkeypatch.delenv(BROKER_URL_ENV, raising=False)
    source = tmp_path / "in.jsonl"
    lines = []
    for i in range(12):
        n = i % 10
        marker = " REFUSE" if n == 5 else ""
        text = f"Company {n} said revenue rose {n + 2} percent to ${n + 1}.5 billion.{marker}"
        lines.append(json.dumps({"id": f"art-{i}", "text": text}))  # art-10, 11 repeat 0, 1
    lines.append("not json")
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(output), "--broker", broker, "--database-url", database]
    report = tmp_path / "report.json"

    result = CliRunner().invoke(batch_app, [*args, "--json-report", str(report), "-q"])
    assert result.exit_code == 7, result.output  # two error records: the refusal, the bad line

    records = [json.loads(line) for line in output.read_text().splitlines()]
    keys = [r["id"] if r["id"] is not None else f"line {r['line']}" for r in records]
    assert sorted(keys) == sorted([f"art-{i}" for i in range(12)] + ["line 13"])
    by_id = {r["id"]: r for r in records}
    assert by_id["art-5"]["reason"] == "refusal" and "[job " in by_id["art-5"]["message"]
    assert sum(r["status"] == "ok" for r in records) == 11  # 12 articles, one refused
    run = json.loads(report.read_text())["run"]
    assert run["model"] == "offline-v1" and run["tokens"]["prompt"] > 0
    assert run["cache_hits"] == 2  # art-10 and art-11 repeat art-0 and art-1: no job

    store = JobStore(database)
    try:
        with store.engine.connect() as conn:
            made = conn.execute(sa.select(jobs.c.status)).scalars().all()
        assert sorted(made) == ["done"] * 9 + ["failed"]  # one job per distinct article
        again = CliRunner().invoke(batch_app, [*args, "-q"])
        assert again.exit_code == 7, again.output  # the job's exit code, nothing left to do
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar() == 10
    finally:
        store.close()
    assert len(output.read_text().splitlines()) == 13
