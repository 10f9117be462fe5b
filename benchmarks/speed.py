"""Speed of the numeric validator and of figure extraction, against fixed targets.

Measures, in one process pinned to one core:

a. claims per second through ``check_claims`` on the validator suite (one call per source,
   all 13,873 claims; best of ``--runs``, default 3);
b. ``find_figures`` on the seed article (``seed/alibaba_fy2026_q4_article.txt``): the number
   of figures found and the time per call, median and min over ``--seed-runs`` (default 200);
c. extraction throughput in MB/s (UTF-8 bytes per second, 1 MB = 10**6 bytes) over a corpus
   made by concatenating the BBC business articles, the bodies of the Reuters-21578 ``earn``
   articles and the ECTSum validation transcripts: one call on the whole corpus (best of
   ``--runs``; the headline figure), and document by document; also figures found per MB;
d. quantulum3 (``parser.parse``) on the seed article (per call) and on a ~200 KB slice of the
   same corpus (whole documents taken at a regular stride, parsed one by one by both, since
   quantulum3 slows down more than linearly on long strings; ``--quantulum-whole`` adds a call
   on the slice as one string, which takes minutes), and the speed ratios ours/quantulum3;
e. worst cases: adversarial inputs (random mixes of digits, separators, currency signs, scale
   letters; long digit runs; ``1,1,1,...``; ``1.1.1...``; ``$$$...1``; ``((((1,234)``; Chinese
   亿/万 with full-width digits; ...) of 0.25, 0.5 and 1 MB from a fixed random seed, each timed
   in a child process with a timeout, with the time per MB per size to show linear growth.

Ends with a summary table giving the target next to each figure: claims/s >= 10,000; seed
article < 2 ms per call (median); extraction >= 3 MB/s; every adversarial 1 MB input < 0.1 s.

Run from the repository root::

    python benchmarks/speed.py                       # everything (about a minute)
    python benchmarks/speed.py --sections be         # only the seed article and the worst cases
    python benchmarks/speed.py --no-quantulum --json /tmp/speed.json

Exits 2 when the data is absent, 1 when the validator is not implemented, 0 otherwise (whether
or not the targets are met).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    DATA_DIR,
    VALIDATOR_SUITE_DIR,
    die,
    read_jsonl,
    require_dir,
    require_file,
    table,
    write_json,
)

from summariser import Claim, check_claims, find_figures

SEED_ARTICLE = Path("seed") / "alibaba_fy2026_q4_article.txt"
MB = 1_000_000
RANDOM_SEED = 20260513

TARGET_CLAIMS_PER_SECOND = 10_000.0
TARGET_SEED_MS = 2.0
TARGET_MB_PER_SECOND = 3.0
TARGET_ADVERSARIAL_SECONDS = 0.1


def pin_to_one_core(cpu: int | None) -> str:
    """Pin this process (and its children) to one CPU (default: the last one allowed)."""
    if cpu is not None and cpu < 0:
        return "not pinned (--cpu -1)"
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this platform)"
    allowed = os.sched_getaffinity(0)
    chosen = max(allowed) if cpu is None else cpu
    if chosen not in allowed:
        die(f"--cpu {chosen} is not one of the CPUs allowed: {sorted(allowed)}")
    os.sched_setaffinity(0, {chosen})
    return f"pinned to CPU {chosen} of {len(allowed)}"


def mb(n_bytes: int) -> float:
    return n_bytes / MB


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def call_find_figures(text: str) -> list[Any]:
    return find_figures(text)


# --- (a) claims per second ---------------------------------------------------------------------


def load_validator_suite(suite: Path) -> list[tuple[str, list[Claim]]]:
    cases_path = require_file(suite / "cases.jsonl", "validator suite cases.jsonl")
    sources_dir = require_dir(suite / "sources", "validator suite sources/")
    groups: dict[str, list[Claim]] = {}
    for row in read_jsonl(cases_path):
        groups.setdefault(row["source"], []).append(Claim(row["claim"], id=row["id"]))
    out = []
    for source_id, claims in groups.items():
        path = require_file(sources_dir / f"{source_id}.txt", f"source {source_id}")
        out.append((path.read_text(encoding="utf-8"), claims))
    return out


def bench_claims(suite: Path, runs: int) -> dict[str, Any]:
    groups = load_validator_suite(suite)
    n_claims = sum(len(c) for _, c in groups)
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        for source, claims in groups:
            check_claims(source, claims)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(
        table(
            ["run", "seconds", "claims/s"],
            [[i + 1, f"{t:.3f}", n_claims / t] for i, t in enumerate(times)],
            f"(a) check_claims on the validator suite: {n_claims:,} claims, {len(groups)} sources",
        )
    )
    print(f"best of {runs}: {n_claims / best:,.0f} claims/s")
    return {
        "claims": n_claims,
        "sources": len(groups),
        "seconds": times,
        "claims_per_second": n_claims / best,
    }


# --- (b) seed article --------------------------------------------------------------------------


def bench_seed(seed_text: str, runs: int) -> dict[str, Any]:
    figures = call_find_figures(seed_text)  # warm-up (imports, compiled patterns)
    times = []
    gc.collect()
    for _ in range(runs):
        t0 = time.perf_counter()
        find_figures(seed_text)
        times.append(time.perf_counter() - t0)
    median_ms = statistics.median(times) * 1e3
    min_ms = min(times) * 1e3
    amounts = sum(1 for f in figures if getattr(f, "is_amount", False))
    print(
        f"(b) find_figures on the seed article ({utf8_len(seed_text):,} bytes): "
        f"{len(figures)} figures ({amounts} amounts); per call over {runs} runs: "
        f"median {median_ms:.3f} ms, min {min_ms:.3f} ms"
    )
    return {
        "bytes": utf8_len(seed_text),
        "figures": len(figures),
        "amounts": amounts,
        "median_ms": median_ms,
        "min_ms": min_ms,
    }


# --- (c) corpus throughput ---------------------------------------------------------------------


def load_corpus(data: Path) -> list[str]:
    """The documents: BBC business articles, Reuters earn bodies, ECTSum val transcripts."""
    bbc = require_dir(data / "bbc_business" / "articles", "BBC business articles")
    reuters = require_file(data / "reuters21578" / "earn_articles.jsonl", "Reuters-21578 earn")
    ects = require_dir(data / "ectsum" / "val" / "ects", "ECTSum validation transcripts")
    docs = [p.read_text(encoding="utf-8") for p in sorted(bbc.glob("*.txt"))]
    docs += [str(row.get("body") or "") for row in read_jsonl(reuters)]
    docs += [p.read_text(encoding="utf-8") for p in sorted(ects.glob("*.txt"))]
    docs = [d for d in docs if d.strip()]
    if not docs:
        die(f"the corpus under {data} is empty")
    return docs


def bench_corpus(docs: list[str], runs: int) -> dict[str, Any]:
    corpus = "\n\n".join(docs)
    n_bytes = utf8_len(corpus)
    whole = []
    n_figures = 0
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        n_figures = len(call_find_figures(corpus))
        whole.append(time.perf_counter() - t0)
    per_doc = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        for doc in docs:
            find_figures(doc)
        per_doc.append(time.perf_counter() - t0)
    rows = [
        ["whole corpus, one call", f"{min(whole):.3f}", mb(n_bytes) / min(whole)],
        [
            f"document by document ({len(docs):,} calls)",
            f"{min(per_doc):.3f}",
            mb(n_bytes) / min(per_doc),
        ],
    ]
    print(
        table(
            ["mode", "best s", "MB/s"],
            rows,
            f"(c) find_figures throughput: {mb(n_bytes):.2f} MB, {len(docs):,} documents, "
            f"best of {runs}",
        )
    )
    print(f"figures found: {n_figures:,} ({n_figures / mb(n_bytes):,.0f} per MB)")
    return {
        "bytes": n_bytes,
        "documents": len(docs),
        "figures": n_figures,
        "figures_per_mb": n_figures / mb(n_bytes),
        "whole_seconds": whole,
        "per_document_seconds": per_doc,
        "mb_per_second": mb(n_bytes) / min(whole),
        "mb_per_second_per_document": mb(n_bytes) / min(per_doc),
    }


def corpus_slice(docs: list[str], target_bytes: int) -> list[str]:
    """Whole documents taken at a regular stride through ``docs``, about ``target_bytes``."""
    total = sum(utf8_len(d) for d in docs)
    stride = max(1, round(total / target_bytes))
    picked: list[str] = []
    size = 0
    for start in range(stride):  # wrap around when one pass is not enough
        for doc in docs[start::stride]:
            if size >= target_bytes:
                return picked
            picked.append(doc)
            size += utf8_len(doc)
    return picked


def bench_quantulum(
    seed_text: str,
    slice_docs: list[str],
    seed_runs: int,
    ours_seed_median_ms: float,
    whole: bool,
) -> dict[str, Any]:
    """quantulum3 against find_figures on the seed article and on a corpus slice.

    The slice is parsed document by document by both (quantulum3's time grows faster than the
    length of its input: one call on the whole 200 KB takes minutes). With ``whole``, both are
    also timed on the slice joined into one string.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    slice_text = "\n\n".join(slice_docs)
    slice_mb = mb(utf8_len(slice_text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from quantulum3 import parser as qparser  # type: ignore[import-untyped]

        qparser.parse(seed_text)  # warm-up: loads its unit tables
        q_seed = []
        q_found = 0
        for _ in range(seed_runs):
            t0 = time.perf_counter()
            q_found = len(qparser.parse(seed_text))
            q_seed.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        q_slice_found = sum(len(qparser.parse(doc)) for doc in slice_docs)
        q_slice = time.perf_counter() - t0
        q_whole = None
        if whole:
            t0 = time.perf_counter()
            qparser.parse(slice_text)
            q_whole = time.perf_counter() - t0

    ours_slice = []
    ours_slice_found = 0
    for _ in range(3):
        t0 = time.perf_counter()
        ours_slice_found = sum(len(find_figures(doc)) for doc in slice_docs)
        ours_slice.append(time.perf_counter() - t0)
    ours_whole = None
    if whole:
        ours_whole = min(_timed(lambda: find_figures(slice_text)) for _ in range(3))
    q_seed_ms = statistics.median(q_seed) * 1e3
    seed_ratio = q_seed_ms / ours_seed_median_ms
    slice_ratio = q_slice / min(ours_slice)
    kb = f"{slice_mb * 1000:.0f} KB"
    rows: list[list[object]] = [
        [
            "seed article, ms per call (median)",
            ours_seed_median_ms,
            q_seed_ms,
            f"{seed_ratio:,.0f}x",
        ],
        [
            f"{kb} slice ({len(slice_docs)} documents), MB/s",
            slice_mb / min(ours_slice),
            slice_mb / q_slice,
            f"{slice_ratio:,.0f}x",
        ],
    ]
    if q_whole is not None and ours_whole is not None:
        rows.append(
            [
                f"{kb} slice as one string, MB/s",
                slice_mb / ours_whole,
                slice_mb / q_whole,
                f"{q_whole / ours_whole:,.0f}x",
            ]
        )
    rows += [
        ["seed article, items found", len(find_figures(seed_text)), q_found, "-"],
        ["corpus slice, items found", ours_slice_found, q_slice_found, "-"],
    ]
    print(
        table(
            ["measure", "ours", "quantulum3", "speed ours/q3"],
            rows,
            f"(d) quantulum3 {_quantulum_version()} parser.parse (seed: median of "
            f"{seed_runs} after a warm-up; slice: one run, ours best of 3)",
        )
    )
    return {
        "seed_ms": q_seed_ms,
        "seed_found": q_found,
        "slice_bytes": utf8_len(slice_text),
        "slice_documents": len(slice_docs),
        "slice_seconds": q_slice,
        "slice_mb_per_second": slice_mb / q_slice,
        "ours_slice_mb_per_second": slice_mb / min(ours_slice),
        "slice_whole_seconds": q_whole,
        "ours_slice_whole_seconds": ours_whole,
        "seed_speed_ratio": seed_ratio,
        "slice_speed_ratio": slice_ratio,
    }


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _quantulum_version() -> str:
    try:
        from importlib.metadata import version

        return version("quantulum3")
    except Exception:  # the version is only a label
        return ""


# --- (e) adversarial inputs --------------------------------------------------------------------


def _cut(text: str, n_bytes: int) -> str:
    return text.encode("utf-8")[:n_bytes].decode("utf-8", "ignore")


def _repeat(unit: str, n_bytes: int) -> str:
    return _cut(unit * (n_bytes // max(1, utf8_len(unit)) + 1), n_bytes)


def _choices(rng: random.Random, weighted: dict[str, int], n_bytes: int) -> str:
    tokens = list(weighted)
    weights = list(weighted.values())
    mean = sum(utf8_len(t) * w for t, w in weighted.items()) / sum(weights)
    text = "".join(rng.choices(tokens, weights, k=int(n_bytes / mean) + 64))
    while utf8_len(text) < n_bytes:
        text += "".join(rng.choices(tokens, weights, k=1024))
    return _cut(text, n_bytes)


def gen_random_mix(rng: random.Random, n: int) -> str:
    chars = {
        **dict.fromkeys("0123456789", 8),
        ",": 6,
        ".": 6,
        " ": 8,
        "$": 2,
        "£": 2,
        "€": 2,
        "¥": 2,
        "%": 3,
        "m": 2,
        "bn": 2,
        "k": 2,
        "-": 1,
        "(": 1,
        ")": 1,
        "\n": 1,
    }
    return _choices(rng, chars, n)


def gen_random_figures(rng: random.Random, n: int) -> str:
    """Plausible figures back to back: many real matches, units, hedges, ranges."""
    parts: list[str] = []
    size = 0
    pre = ["", "", "$", "£", "€", "¥", "US$", "about ", "more than ", "(", "-", "Rs "]
    post = [
        "",
        "",
        "%",
        "m",
        "bn",
        " million",
        " billion",
        " mln dlrs",
        " cts",
        " pct",
        " per cent",
        "bp",
        " percentage points",
        "x",
        ")",
        "-fold",
        " yuan",
        "亿元",
    ]
    while size < n:
        digits = str(rng.randint(0, 10 ** rng.randint(1, 9)))
        if rng.random() < 0.5 and len(digits) > 3:
            head, tail = digits[: len(digits) % 3 or 3], digits[len(digits) % 3 or 3 :]
            digits = ",".join([head] + [tail[i : i + 3] for i in range(0, len(tail), 3)])
        if rng.random() < 0.4:
            digits += "." + str(rng.randint(0, 999))
        token = rng.choice(pre) + digits + rng.choice(post) + rng.choice([" ", ", ", " to ", "-"])
        parts.append(token)
        size += utf8_len(token)
    return _cut("".join(parts), n)


def gen_digits_only(rng: random.Random, n: int) -> str:
    return "".join(rng.choices("0123456789", k=n))


def gen_digit_runs(rng: random.Random, n: int) -> str:
    parts: list[str] = []
    size = 0
    while size < n:
        run = "".join(rng.choices("0123456789", k=rng.randint(50, 5000))) + " "
        parts.append(run)
        size += len(run)
    return _cut("".join(parts), n)


def gen_comma_ones(rng: random.Random, n: int) -> str:
    return _repeat("1,", n)


def gen_thousands(rng: random.Random, n: int) -> str:
    return _cut("1" + ",000" * (n // 4 + 1), n)


def gen_dot_ones(rng: random.Random, n: int) -> str:
    return _repeat("1.", n)


def gen_spaced_digits(rng: random.Random, n: int) -> str:
    return _repeat("1 ", n)


def gen_separators(rng: random.Random, n: int) -> str:
    return _choices(rng, {**dict.fromkeys("0123456789", 3), "-": 4, "/": 4, ":": 4, "+": 1}, n)


def gen_dollars_then_one(rng: random.Random, n: int) -> str:
    return "$" * (n - 1) + "1"


def gen_currencies_then_one(rng: random.Random, n: int) -> str:
    return _cut("".join(rng.choices("$£€¥", k=n)), n - 1) + "1"


def gen_open_parens(rng: random.Random, n: int) -> str:
    return "(" * (n - 6) + "1,234)"


def gen_parens_mix(rng: random.Random, n: int) -> str:
    parts: list[str] = []
    size = 0
    while size < n:
        unit = "(" * rng.randint(1, 40) + rng.choice(["1,234)", "1,234", "(1.5)", "-2)", ")"])
        parts.append(unit)
        size += len(unit)
    return _cut("".join(parts), n)


def gen_spaces_before_scale(rng: random.Random, n: int) -> str:
    parts: list[str] = []
    size = 0
    while size < n:
        unit = "1" + " " * rng.randint(1, 20_000) + rng.choice(["bn", "million", "%", "x", ""])
        parts.append(unit)
        size += len(unit)
    return _cut("".join(parts), n)


def gen_chinese(rng: random.Random, n: int) -> str:
    chars = {
        **dict.fromkeys("0123456789", 3),
        **dict.fromkeys("０１２３４５６７８９", 3),
        "亿": 4,
        "万": 4,
        "千": 2,
        "百": 2,
        "元": 3,
        "点": 1,
        "．": 2,
        "，": 2,
        ".": 2,
        "％": 1,
        "%": 1,
        "人民币": 1,
        "港元": 1,
        " ": 1,
        "第": 1,
        "季度": 1,
    }
    return _choices(rng, chars, n)


def gen_number_words(rng: random.Random, n: int) -> str:
    words = [
        "one",
        "two",
        "three",
        "twenty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
        "trillion",
        "and",
        "a",
        "half",
        "quarter",
        "third",
        "per",
        "cent",
        "point",
        "five",
        "dozen",
        "fold",
        "times",
        "first",
        "tenth",
        "-",
        "of",
    ]
    return _choices(rng, {w + " ": 1 for w in words}, n)


GENERATORS: dict[str, Callable[[random.Random, int], str]] = {
    "random mix (digits , . space $£€¥ % m bn k)": gen_random_mix,
    "random plausible figures": gen_random_figures,
    "digits only (one run)": gen_digits_only,
    "digit runs of 50-5,000": gen_digit_runs,
    "1,1,1,1,...": gen_comma_ones,
    "1,000,000,000,...": gen_thousands,
    "1.1.1.1...": gen_dot_ones,
    "1 1 1 1 ...": gen_spaced_digits,
    "digits with - / : +": gen_separators,
    "$$$$...1": gen_dollars_then_one,
    "$£€¥ mix...1": gen_currencies_then_one,
    "((((...1,234)": gen_open_parens,
    "((((1,234) mixed": gen_parens_mix,
    "1<many spaces>bn": gen_spaces_before_scale,
    "Chinese 亿万 + full-width digits": gen_chinese,
    "number words": gen_number_words,
}
SIZES = (MB // 4, MB // 2, MB)


@dataclass
class AdversarialResult:
    name: str
    size: int
    n_bytes: int = 0
    seconds: float | None = None  # best of the runs; None when timed out or failed
    figures: int = 0
    failure: str | None = None


def _adversarial_child(name: str, size: int, runs: int, conn: Any) -> None:
    try:
        text = GENERATORS[name](random.Random(f"{RANDOM_SEED}/{name}/{size}"), size)
        times = []
        found = 0
        for _ in range(runs):
            t0 = time.perf_counter()
            found = len(find_figures(text))
            times.append(time.perf_counter() - t0)
            if times[-1] > 1.0:  # slow enough: one run tells
                break
        conn.send(("ok", utf8_len(text), min(times), found))
    except BaseException as exc:  # the parent reports it
        conn.send(("error", 0, 0.0, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def time_adversarial(name: str, size: int, runs: int, timeout: float) -> AdversarialResult:
    result = AdversarialResult(name, size)
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_adversarial_child, args=(name, size, runs, child), daemon=True)
    proc.start()
    child.close()
    if parent.poll(timeout):
        status, n_bytes, seconds, extra = parent.recv()
        if status == "ok":
            result.n_bytes, result.seconds, result.figures = n_bytes, seconds, int(extra)
        else:
            result.failure = str(extra)
    else:
        result.failure = f"timed out after {timeout:g} s"
    proc.join(1.0)
    if proc.is_alive():
        proc.terminate()
        proc.join()
    return result


def bench_adversarial(runs: int, timeout: float) -> list[AdversarialResult]:
    results = []
    rows = []
    for name in GENERATORS:
        per_size: list[AdversarialResult] = []
        for size in SIZES:
            if per_size and per_size[-1].seconds is None:
                per_size.append(AdversarialResult(name, size, failure="skipped"))
                continue
            per_size.append(time_adversarial(name, size, runs, timeout))
        results.extend(per_size)
        cells: list[object] = [name]
        for r in per_size:
            cells.append(f"{r.seconds * 1e3:,.1f}" if r.seconds is not None else r.failure)
        per_mb = [r.seconds / mb(r.n_bytes) for r in per_size if r.seconds and r.n_bytes]
        for r in per_size:
            cells.append(f"{r.seconds / mb(r.n_bytes):.3f}" if r.seconds and r.n_bytes else "-")
        growth = f"{per_mb[-1] / per_mb[0]:.2f}" if len(per_mb) == len(SIZES) else "-"
        big = per_size[-1]
        cells += [
            growth,
            big.figures if big.seconds is not None else "-",
            f"{big.seconds / big.figures * 1e6:.1f}" if big.seconds and big.figures >= 100 else "-",
            _verdict(big.seconds is not None and big.seconds < TARGET_ADVERSARIAL_SECONDS),
        ]
        rows.append(cells)
    headers = (
        ["input"]
        + [f"ms @{s / MB:g}MB" for s in SIZES]
        + [f"s/MB @{s / MB:g}MB" for s in SIZES]
        + ["1MB/0.25MB s/MB", "figs @1MB", "us/fig @1MB", "<0.1s"]
    )
    print(
        table(
            headers,
            rows,
            f"(e) adversarial inputs (seed {RANDOM_SEED}; best of {runs} runs, each size in "
            f"a child process, timeout {timeout:g} s; s/MB ratio ~1 = linear growth)",
        )
    )
    return results


# --- summary -----------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_summary(res: dict[str, Any]) -> None:
    rows: list[list[object]] = []
    if "claims" in res:
        v = res["claims"]["claims_per_second"]
        rows.append(
            [
                "claims/s, check_claims (best of runs)",
                f"{v:,.0f}",
                ">= 10,000",
                _verdict(v >= TARGET_CLAIMS_PER_SECOND),
            ]
        )
    if "seed" in res:
        v = res["seed"]["median_ms"]
        rows.append(
            [
                "seed article find_figures, ms (median)",
                f"{v:.3f}",
                "< 2",
                _verdict(v < TARGET_SEED_MS),
            ]
        )
    if "corpus" in res:
        v = res["corpus"]["mb_per_second"]
        rows.append(
            [
                "extraction MB/s (whole corpus)",
                f"{v:.2f}",
                ">= 3",
                _verdict(v >= TARGET_MB_PER_SECOND),
            ]
        )
        v2 = res["corpus"]["mb_per_second_per_document"]
        rows.append(
            [
                "extraction MB/s (document by document)",
                f"{v2:.2f}",
                ">= 3",
                _verdict(v2 >= TARGET_MB_PER_SECOND),
            ]
        )
        rows.append(["figures per MB", f"{res['corpus']['figures_per_mb']:,.0f}", "-", "-"])
    if "quantulum3" in res:
        q = res["quantulum3"]
        rows.append(
            [
                "speed ratio ours/quantulum3, seed article",
                f"{q['seed_speed_ratio']:,.0f}x",
                "-",
                "-",
            ]
        )
        rows.append(
            [
                "speed ratio ours/quantulum3, corpus slice",
                f"{q['slice_speed_ratio']:,.0f}x",
                "-",
                "-",
            ]
        )
    if "adversarial" in res:
        big = [r for r in res["adversarial"] if r["size"] == MB]
        failed = [r for r in big if r["seconds"] is None]
        slow = [
            r
            for r in big
            if r["seconds"] is not None and r["seconds"] >= TARGET_ADVERSARIAL_SECONDS
        ]
        if failed:
            worst_text = f"{len(failed)} failed/timed out ({failed[0]['name']})"
        else:
            worst = max(big, key=lambda r: r["seconds"])
            worst_text = f"{worst['seconds']:.4f} ({worst['name']})"
        rows.append(
            ["adversarial 1 MB, worst s", worst_text, "< 0.1", _verdict(not failed and not slow)]
        )
        rows.append(
            [
                "adversarial 1 MB inputs at or over 0.1 s",
                f"{len(slow) + len(failed)} of {len(big)}",
                "0",
                _verdict(not failed and not slow),
            ]
        )
    print(table(["measure", "measured", "target", "met"], rows, "Summary"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--suite",
        type=Path,
        default=VALIDATOR_SUITE_DIR,
        help=f"validator suite folder (default: {VALIDATOR_SUITE_DIR})",
    )
    parser.add_argument(
        "--data", type=Path, default=DATA_DIR, help=f"evaluation data folder (default: {DATA_DIR})"
    )
    parser.add_argument(
        "--sections",
        default="abcde",
        help="which measurements to run, letters a-e (default: abcde)",
    )
    parser.add_argument("--runs", type=int, default=3, help="best of RUNS for a, c, e")
    parser.add_argument("--seed-runs", type=int, default=200, help="calls on the seed article")
    parser.add_argument(
        "--quantulum-runs",
        type=int,
        default=5,
        help="quantulum3 calls on the seed article (after one warm-up)",
    )
    parser.add_argument("--slice-kb", type=int, default=200, help="corpus slice for quantulum3")
    parser.add_argument(
        "--quantulum-whole",
        action="store_true",
        help="also time quantulum3 on the slice as one string (slow: minutes)",
    )
    parser.add_argument("--no-quantulum", action="store_true", help="skip (d)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds allowed per adversarial input before giving up",
    )
    parser.add_argument(
        "--cpu", type=int, help="CPU to pin to (default: the last one allowed; -1: do not pin)"
    )
    parser.add_argument("--json", metavar="OUT", help="write the measurements as JSON to OUT")
    args = parser.parse_args(argv)

    sections = set(args.sections.lower())
    if args.no_quantulum:
        sections.discard("d")
    if not sections <= set("abcde"):
        die(f"--sections takes letters a-e, not {args.sections!r}")
    seed_path = args.data / SEED_ARTICLE
    if sections & set("bd"):
        require_file(seed_path, "seed article")
    if "a" in sections:
        require_dir(args.suite, "validator suite")
    if sections & set("cd"):
        require_dir(args.data, "data folder")

    pinned = pin_to_one_core(args.cpu)
    print(f"Python {sys.version.split()[0]}, {pinned}, 1 MB = 10**6 UTF-8 bytes\n")
    res: dict[str, Any] = {}
    seed_text = seed_path.read_text(encoding="utf-8") if sections & set("bd") else ""
    if "a" in sections:
        res["claims"] = bench_claims(args.suite, args.runs)
        print()
    if "b" in sections:
        res["seed"] = bench_seed(seed_text, args.seed_runs)
        print()
    docs: list[str] = []
    if sections & set("cd"):
        docs = load_corpus(args.data)
    if "c" in sections:
        res["corpus"] = bench_corpus(docs, args.runs)
        print()
    if "d" in sections:
        ours_ms = (
            res["seed"]["median_ms"] if "seed" in res else bench_seed(seed_text, 50)["median_ms"]
        )
        res["quantulum3"] = bench_quantulum(
            seed_text,
            corpus_slice(docs, args.slice_kb * 1000),
            args.quantulum_runs,
            ours_ms,
            args.quantulum_whole,
        )
        print()
    if "e" in sections:
        res["adversarial"] = [vars(r) for r in bench_adversarial(args.runs, args.timeout)]
        print()
    print_summary(res)
    if args.json:
        write_json(args.json, {"benchmark": "speed", "pinned": pinned, "results": res})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
