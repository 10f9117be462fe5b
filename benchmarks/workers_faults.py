"""Dramatiq workers under SIGKILL: no job lost, no result written twice.

Starts a job store (a SQLite file in a temporary folder) and 3 worker processes (``python -m
dramatiq workers_faults:setup_worker -p 1 -t THREADS``: the real actor and broker, with a short
heartbeat (3 s) and job lease (2 s) so that a dead worker's jobs are taken over in seconds, as
in tests/workers/test_worker_processes.py), then puts ``--jobs`` (1,000) short text jobs in the
store and sends them as ``summariser serve --broker`` does. The handler is the real ``text``
handler on the ``offline`` backend, after a ``--sleep`` (0.2 s) pause so that kills land
mid-job. Every ``--kill-every`` seconds a random worker's process group is sent SIGKILL and a
replacement started, until every job has ended or ``--timeout``.

Printed:

* lost: jobs not ``done`` at the end (still queued or running, failed, dead, expired), plus
  jobs ``done`` without a result. Target 0.
* duplicates: jobs whose result was written more than once. Counted in the database itself: an
  SQLite trigger (created by this script on the store, not part of the product) appends a row
  to a ``bench_done_writes`` table on every UPDATE that makes a job ``done`` (from another
  status; the answer's bookkeeping later updates done rows too), whichever process made it; a
  job with more than one row had its outcome written twice. Target 0.
* Slack answers (``--slack`` of the jobs, a quarter by default, are ``slack`` jobs answered
  at a ``response_url`` of a fake Slack on loopback, tests/service/fake_slack.py, by the real
  :class:`~summariser.service.slack_replies.SlackReplier`): unanswered (done, but no answer
  posted) and answered twice. Targets 0 and 0; a second answer can only come from a worker
  killed between Slack's 200 and the store's record of it, a window of milliseconds.
* restarted: jobs whose handler began more than once (a worker died mid-job and another took
  the job over, or a redelivered message won the claim): expected above 0, and harmless as
  long as duplicates stay 0. Counted from a log file the handler wrapper appends to.

Redis: the one on 127.0.0.1:6379 when it answers, else a throw-away ``redis-server``; only
this run's namespace keys are written, and deleted at the end. Run from the repository root::

    python benchmarks/workers_faults.py                       # 1,000 jobs, a kill every 3 s
    python benchmarks/workers_faults.py --jobs 300 --kill-every 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import REPO_ROOT, table  # (importing _common puts the checkout on sys.path)
from workers_throughput import ARTICLE, Workers, count_status, redis_server, submit

from summariser.service.store import JobStore, NewJob, jobs
from summariser.workers.broker import dispatcher
from tests.service.fake_slack import TOKEN, FakeSlack

HEARTBEAT_MS = 3_000
LEASE = timedelta(seconds=2)
LOG_ENV = "SUMMARISER_BENCH_HANDLER_LOG"
SLEEP_ENV = "SUMMARISER_BENCH_SLEEP"
SLACK_ENV = "SUMMARISER_BENCH_SLACK_API_URL"


# --- what runs inside the worker processes ------------------------------------------------


def setup_worker() -> None:
    """The dramatiq command line's broker set-up in this benchmark's worker processes."""
    from summariser.workers import broker_namespace, broker_url
    from summariser.workers.actors import use_runtime
    from summariser.workers.broker import install, make_broker

    url = broker_url(None)
    assert url is not None
    broker = make_broker(
        url,
        namespace=broker_namespace(),
        heartbeat_timeout_ms=HEARTBEAT_MS,
        maintenance_chance=1_000_000,  # out of 1_000_000: every fetch requeues dead workers'
    )
    install(broker)
    use_runtime(_worker_runtime)


def _worker_runtime() -> Any:
    from summariser.backends.registry import make_backend
    from summariser.service.jobs import summarise_handlers
    from summariser.service.slack_replies import SlackReplier
    from summariser.settings import Settings
    from summariser.workers.actors import Runtime

    store = JobStore(os.environ["SUMMARISER_DATABASE_URL"])
    settings = Settings.from_env(backend="offline")
    handlers = summarise_handlers(settings, make_backend(settings), max_article_chars=100_000)
    text = handlers["text"]
    slack = SlackReplier(TOKEN, os.environ[SLACK_ENV])
    log = Path(os.environ[LOG_ENV])
    pause = float(os.environ.get(SLEEP_ENV, "0.2"))

    async def noted(payload: Mapping[str, Any]) -> dict[str, Any]:
        with log.open("a", encoding="utf-8") as file:
            file.write(f"{payload['text'].rsplit(' ', 1)[-1]}\n")
        await asyncio.sleep(pause)
        return await text(payload)

    return Runtime(
        store,
        {"text": noted, "slack": slack.job_handler({"text": noted, "url": handlers["url"]})},
        {"slack": slack.reply},
        lease=LEASE,
        reply_lease=LEASE,
    )


# --- the benchmark --------------------------------------------------------------------------

TRIGGER = """
CREATE TRIGGER bench_done_write AFTER UPDATE ON {table}
WHEN NEW.status = 'done' AND OLD.status <> 'done'
BEGIN
  INSERT INTO bench_done_writes (job_id) VALUES (NEW.id);
END
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sleep", type=float, default=0.2, help="handler pause, seconds")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between kills")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slack", type=float, default=0.25, help="share of Slack jobs")
    args = parser.parse_args(argv)
    chance = random.Random(args.seed)

    with (
        redis_server() as redis_url,
        tempfile.TemporaryDirectory(prefix="faults-") as folder,
        FakeSlack() as fake_slack,
    ):
        tmp = Path(folder)
        db_url = f"sqlite:///{tmp / 'jobs.sqlite'}"
        handler_log = tmp / "handler.log"
        handler_log.touch()
        store = JobStore(db_url)
        store.create_schema()
        with store.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE bench_done_writes (job_id TEXT NOT NULL)"))
            conn.execute(sa.text(TRIGGER.format(table=jobs.name)))
        workers = Workers(
            redis_url,
            db_url,
            tmp,
            "workers_faults:setup_worker",
            SUMMARISER_BACKEND="offline",
            PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), str(REPO_ROOT)]),
            **{
                LOG_ENV: str(handler_log),
                SLEEP_ENV: str(args.sleep),
                SLACK_ENV: fake_slack.api_url,
            },
        )
        kills = 0
        try:
            live = [workers.start(args.threads) for _ in range(args.workers)]
            workers.wait_ready(args.workers)
            started = time.monotonic()
            send = dispatcher(redis_url, namespace=workers.namespace)
            slack_jobs = int(args.jobs * args.slack)
            ids = submit(store, send, args.jobs - slack_jobs, "f")
            ids += submit_slack(store, send, slack_jobs, fake_slack)
            next_kill = time.monotonic() + args.kill_every
            while time.monotonic() - started < args.timeout:
                ended = args.jobs - count_status(store, "queued") - count_status(store, "running")
                if ended >= args.jobs:
                    break
                if time.monotonic() >= next_kill:
                    victim = live.pop(chance.randrange(len(live)))
                    os.killpg(victim.pid, signal.SIGKILL)
                    victim.wait(timeout=10)
                    kills += 1
                    live.append(workers.start(args.threads))
                    next_kill = time.monotonic() + args.kill_every
                time.sleep(0.1)
            elapsed = time.monotonic() - started
            statuses: Counter[str] = Counter()
            no_result = 0
            for job_id in ids:
                job = store.get(job_id)
                statuses[job.status if job is not None else "missing"] += 1
                if job is not None and job.status == "done" and not job.result:
                    no_result += 1
            with store.engine.connect() as conn:
                writes = conn.execute(
                    sa.text("SELECT job_id, COUNT(*) FROM bench_done_writes GROUP BY job_id")
                ).all()
            begun = Counter(handler_log_lines(handler_log))
            time.sleep(1.0)  # the last answers follow their jobs' ends
            answers = Counter(call.path for call in fake_slack.replies())
        finally:
            workers.stop()
            store.close()
    duplicates = sum(1 for _, count in writes if count > 1)
    restarted = sum(1 for count in begun.values() if count > 1)
    lost = args.jobs - statuses["done"] + no_result
    unanswered = slack_jobs - len(answers)
    answered_twice = sum(1 for count in answers.values() if count > 1)
    rows = [
        ["jobs", args.jobs],
        ["seconds", f"{elapsed:.1f}"],
        ["workers killed (SIGKILL)", kills],
        ["done", statuses["done"]],
        ["not done", ", ".join(f"{k} {v}" for k, v in statuses.items() if k != "done") or 0],
        ["lost (target 0)", lost],
        ["duplicates (target 0)", duplicates],
        ["Slack jobs", slack_jobs],
        ["Slack jobs unanswered (target 0)", unanswered],
        ["Slack jobs answered twice (target 0)", answered_twice],
        ["restarted (begun twice or more)", restarted],
        ["handler runs", sum(begun.values())],
    ]
    title = (
        f"{args.workers} workers x {args.threads} threads, offline backend, handler pause "
        f"{args.sleep} s, a SIGKILL every {args.kill_every} s"
    )
    print(table(["", "count"], rows, title=title))
    clean = lost == 0 and duplicates == 0 and unanswered == 0 and answered_twice == 0
    sys.exit(0 if clean else 1)


def submit_slack(
    store: JobStore, send: Callable[[str], None], count: int, slack: FakeSlack
) -> list[str]:
    """``count`` Slack jobs (as the bot records them), each answered at its own
    ``response_url``."""
    ids = []
    for n in range(count):
        source = {"text": f"{ARTICLE} Item s-{n}."}
        payload = {"source": source, "surface": "command", "channel": "C1"}
        reply = {
            "surface": "command",
            "channel": "C1",
            "user": "U1",
            "response_url": slack.response_url(f"job-{n}"),
        }
        new = NewJob("slack", "bench", payload, f"bench:s:{n}", f"{n:064x}", f"s-{n}", reply)
        job = store.create(new)[0]
        send(job.id)
        ids.append(job.id)
    return ids


def handler_log_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if line]


if __name__ == "__main__":
    main()
