"""``summariser batch`` on many short articles with the offline backend: throughput and memory.

Generates N short articles (a template with varied companies and figures; 1 in 20 repeats an
earlier text, so the cache is exercised) into a temporary JSONL file, runs ``summariser
batch`` on it in a subprocess with the offline backend, and prints articles per second and
the subprocess's peak RSS (``resource.getrusage(RUSAGE_CHILDREN)``). The target for 100,000
articles is a peak RSS under 300 MB: the input is streamed, never held whole.

Run from the repository root::

    python benchmarks/batch_offline.py               # 100,000 articles
    python benchmarks/batch_offline.py --n 5000      # a quicker run
    python benchmarks/batch_offline.py --keep DIR    # keep input, output and report in DIR

Exits with the batch's own exit code when that is not 0.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO_ROOT

COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell"]
BOOTSTRAP = (
    "import sys; from summariser.cli import app; "
    "from summariser.batch_command import batch_app; "
    "any(g.name == 'batch' for g in app.registered_groups) or "
    "app.add_typer(batch_app, name='batch'); app(prog_name='summariser')"
)


def article(i: int) -> str:
    company = COMPANIES[i % len(COMPANIES)]
    return (
        f"{company} Corp reported quarterly revenue of ${i % 900 + 1}.{i % 10} billion, up "
        f"{i % 23 + 1} percent from a year earlier. Net income rose to ${i % 5000 + 10} million, "
        f"or {i % 7 + 1}.{i % 100:02d} dollars a share, and the company raised its full-year "
        f"outlook. Shares of {company} gained {i % 11 + 1}.{i % 10} percent in late trading; "
        f"the company employs {1000 + i % 40000} people."
    )


def generate(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            text = article(i - 1 if i % 20 == 19 else i)
            out.write(json.dumps({"id": f"a{i:06d}", "text": text, "desk": "bench"}) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles (default 100,000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        source, output = folder / "articles.jsonl", folder / "out.jsonl"
        report = folder / "report.json"
        for stale in (output, folder / "out.jsonl.state.sqlite"):
            stale.unlink(missing_ok=True)
        started = time.perf_counter()
        generate(source, args.n)
        print(
            f"generated {args.n:,} articles ({source.stat().st_size / 1e6:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        from summariser.cli import app

        registered = any(group.name == "batch" for group in app.registered_groups)
        head = ["-m", "summariser"] if registered else ["-c", BOOTSTRAP]
        command = [
            sys.executable,
            *head,
            "batch",
            str(source),
            "-o",
            str(output),
            "--backend",
            "offline",
            "--quiet",
            "--concurrency",
            str(args.concurrency),
            "--json-report",
            str(report),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO_ROOT, check=False)
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        if done.returncode != 0:
            print(f"summariser batch exited {done.returncode}", file=sys.stderr)
            return done.returncode
        run = json.loads(report.read_text())["run"]
        written = output.read_bytes().count(b"\n")
        print(
            f"records      {written:,} ({run['ok']:,} ok, {run['cache_hits']:,} cache hits, "
            f"{run['errors']:,} errors)"
        )
        print(f"wall time    {wall:.1f} s (process), {run['wall_time_s']:.1f} s (job)")
        print(
            f"throughput   {args.n / wall:.0f} articles/s (process), "
            f"{run['articles_per_s']:.0f} articles/s (job)"
        )
        print(f"peak RSS     {peak_mb:.0f} MB (target < 300 MB)")
        print(f"output       {output.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
