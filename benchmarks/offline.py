"""The offline backend: its speed, and how many of the gold summaries' figures it picks.

Measures, in one process (one core):

a. throughput of ``OfflineBackend.complete`` (purpose ``extract``, whole article as one
   request) on the BBC business articles and on the ECTSum validation transcripts, in articles
   per second, with the slowest article;
b. on ECTSum validation (``ects/*.txt`` transcripts, ``gt_summaries/*.txt`` Reuters
   summaries), the recall of the gold figures among the backend's top 5, 10 and 15 metrics.
   Gold figures are the amounts ``find_figures`` finds in the summary lines (one per distinct
   kind, value and unit in a summary), and count only when the transcript supports them
   (``check_claims(transcript, [figure_text])``). A gold figure is recalled when one of our
   metric values matches it by the validator's rules (compatible unit, value within the
   interval its written precision and hedge allow), not by string. The same recall counting
   the metrics' change values too is shown beside it. The gold figures and the matching are
   those of the ``summarise`` eval task (``evals.tasks.summarise``); the eval runs the whole
   pipeline (chunks, merge) where this measures the backend on the whole transcript at once.

Run from the repository root::

    python benchmarks/offline.py
    python benchmarks/offline.py --limit 50          # the first 50 transcripts only

Exits 2 when the data is absent.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from _common import DATA_DIR, pct, require_dir, table

from evals.tasks.summarise import CUTOFFS, amounts, figure_matches, gold_figures
from summariser.backends.base import CompletionRequest
from summariser.backends.offline import OfflineBackend
from summariser.schema import Extraction


def request(text: str) -> CompletionRequest:
    return CompletionRequest(
        messages=(),
        schema_name="extraction",
        json_schema={},
        purpose="extract",
        data=text,
    )


async def run_all(
    backend: OfflineBackend, texts: list[str]
) -> tuple[list[Extraction], list[float]]:
    results: list[Extraction] = []
    times: list[float] = []
    for text in texts:
        started = time.perf_counter()
        completion = await backend.complete(request(text))
        times.append(time.perf_counter() - started)
        assert completion.content is not None
        results.append(Extraction.model_validate_json(completion.content))
    return results, times


def throughput(name: str, paths: list[Path]) -> tuple[list[str], list[Extraction], list[object]]:
    texts = [p.read_text(encoding="utf-8") for p in paths]
    backend = OfflineBackend()
    started = time.perf_counter()
    results, times = asyncio.run(run_all(backend, texts))
    elapsed = time.perf_counter() - started
    words = [len(t.split()) for t in texts]
    slowest = max(range(len(times)), key=times.__getitem__)
    row: list[object] = [
        name,
        len(texts),
        round(sum(words) / len(words)),
        round(elapsed, 2),
        round(len(texts) / elapsed, 1),
        round(1000 * sorted(times)[len(times) // 2], 1),
        f"{1000 * times[slowest]:.0f} ms ({words[slowest]:,} words)",
    ]
    return texts, results, row


def recall(texts: list[str], results: list[Extraction], golds: list[str]) -> None:
    found = {k: 0 for k in CUTOFFS}
    found_changes = {k: 0 for k in CUTOFFS}
    total = absent = 0
    metrics_per_doc = []
    for transcript, extraction, summary in zip(texts, results, golds, strict=True):
        supported, not_in_transcript = gold_figures(transcript, summary)
        absent += len(not_in_transcript)
        metrics_per_doc.append(len(extraction.metrics))
        for gold in supported:
            total += 1
            for k in CUTOFFS:
                top = extraction.metrics[:k]
                values = [f for m in top for f in amounts(m.value)]
                changes = [f for m in top if m.change for f in amounts(m.change.value)]
                if any(figure_matches(gold, f) for f in values):
                    found[k] += 1
                    found_changes[k] += 1
                elif any(figure_matches(gold, f) for f in changes):
                    found_changes[k] += 1
    print(
        f"\nECTSum val: {len(texts)} transcripts; gold amounts supported by the transcript: "
        f"{total} (another {absent} are not in the transcript and are left out); "
        f"metrics per transcript: {sum(metrics_per_doc) / len(metrics_per_doc):.1f} on average"
    )
    rows = [
        [f"top {k}", found[k], pct(found[k], total), found_changes[k], pct(found_changes[k], total)]
        for k in CUTOFFS
    ]
    headers = ["metrics", "recalled", "recall", "recalled (+changes)", "recall (+changes)"]
    print(table(headers, rows, title="Recall of the gold summaries' figures"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the shared data folder")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N transcripts")
    args = parser.parse_args()
    bbc = require_dir(args.data / "bbc_business" / "articles", "BBC business articles")
    ects = require_dir(args.data / "ectsum" / "val" / "ects", "ECTSum validation transcripts")
    gold_dir = require_dir(args.data / "ectsum" / "val" / "gt_summaries", "ECTSum summaries")
    transcripts = sorted(ects.glob("*.txt"))
    if args.limit:
        transcripts = transcripts[: args.limit]
    rows = []
    _, _, row = throughput("BBC business", sorted(bbc.glob("*.txt")))
    rows.append(row)
    texts, results, row = throughput("ECTSum val transcripts", transcripts)
    rows.append(row)
    headers = [
        "corpus",
        "articles",
        "words (mean)",
        "seconds",
        "articles/s",
        "median ms",
        "slowest",
    ]
    print(table(headers, rows, title="Offline backend throughput (one process, one core)"))
    golds = [(gold_dir / p.name).read_text(encoding="utf-8") for p in transcripts]
    recall(texts, results, golds)


if __name__ == "__main__":
    main()
