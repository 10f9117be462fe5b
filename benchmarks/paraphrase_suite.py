"""Paraphrase suite: ``check_claims`` on model-style summary bullets with labelled figures.

Reads ``../shared/paraphrase_suite/claims.jsonl`` (one article a line; see its README.md) and
each article from ``../shared/data/<source_path>``, and calls ``check_claims(article,
[Claim(bullet, id=...), ...])`` once per article. The expected verdict of a bullet:

- unsupported when any of its figures is labelled ``wrong_value`` or ``invented``;
- supported when every figure is ``in_source`` or ``rounded`` (or it has no figure);
- otherwise (``derived`` or ``misattributed`` figures) it is reported separately: how many the
  validator flags, with no right answer for a value-level checker.

Prints the caught rate of the unsupported bullets, the false rejection rate of the faithful ones,
caught counts per ``error`` type, the flagged counts of derived and misattributed bullets and
bullets per second (``check_claims`` wall time). Then a figure-level table: each labelled figure
is located in its bullet (first occurrence of its text) and matched to the validator's figure
verdicts whose spans overlap it; per label, how many are supported, unsupported, skipped or not
found by the parser. Figures the validator found that overlap no labelled figure are counted too.

Run from the repository root::

    python benchmarks/paraphrase_suite.py
    python benchmarks/paraphrase_suite.py --show 10      # + up to 10 misses and 10 false rejections
    python benchmarks/paraphrase_suite.py --json /tmp/paraphrase_suite.json

Exits 2 when the suite or the articles are absent, 1 when the validator is not implemented.
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    DATA_DIR,
    PARAPHRASE_SUITE_DIR,
    describe_figure_verdict,
    die,
    figure_verdict_to_dict,
    pct,
    ratio,
    read_jsonl,
    require_dir,
    require_file,
    table,
    write_json,
)

from evals.datasets import paraphrase_category
from summariser import Claim, ClaimVerdict, FigureVerdict, check_claims

LABEL_ORDER = ("in_source", "rounded", "derived", "misattributed", "wrong_value", "invented")
FIGURE_OUTCOMES = ("supported", "unsupported", "skipped", "not found")


@dataclass
class LabelledFigure:
    text: str
    label: str
    source_text: str | None
    hedge: str | None
    start: int  # first occurrence of ``text`` in the bullet, -1 when absent
    matches: list[FigureVerdict] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def outcome(self) -> str:
        """unsupported if any overlapping verdict is, else supported/skipped, else not found."""
        statuses = {str(m.status) for m in self.matches}
        for status in ("unsupported", "supported", "skipped"):
            if status in statuses:
                return status
        return "not found"


@dataclass
class Bullet:
    id: str
    article: str
    text: str
    error: str | None
    figures: list[LabelledFigure]
    verdict: ClaimVerdict | None = None
    failure: str | None = None

    @property
    def expected(self) -> str:
        """supported, unsupported, or the separate categories derived / misattributed."""
        category = paraphrase_category({f.label for f in self.figures})
        return "supported" if category == "faithful" else category

    @property
    def flagged(self) -> bool:
        return self.verdict is not None and not self.verdict.supported


def load_bullets(suite_file: Path, data_dir: Path) -> list[tuple[str, Path, list[Bullet]]]:
    articles = []
    for row in read_jsonl(suite_file):
        try:
            article_id = str(row["id"])
            source_path = data_dir / row["source_path"]
            bullets = []
            for claim in row["claims"]:
                text = str(claim["text"])
                figures = [
                    LabelledFigure(
                        text=str(f["text"]),
                        label=str(f["label"]),
                        source_text=f.get("source_text"),
                        hedge=f.get("hedge"),
                        start=text.find(str(f["text"])),
                    )
                    for f in claim.get("figures", [])
                ]
                bullets.append(
                    Bullet(str(claim["id"]), article_id, text, claim.get("error"), figures)
                )
        except (KeyError, TypeError) as exc:
            die(f"{suite_file}: an article line lacks a field or has the wrong shape ({exc!r})")
        if not source_path.is_file():
            die(f"article {article_id} not found at {source_path} (pass --data)")
        articles.append((article_id, source_path, bullets))
    return articles


def run_suite(articles: list[tuple[str, Path, list[Bullet]]]) -> tuple[float, list[str]]:
    seconds = 0.0
    failures: list[str] = []
    for article_id, path, bullets in articles:
        source = path.read_text(encoding="utf-8")
        claims = [Claim(b.text, id=b.id) for b in bullets]
        t0 = time.perf_counter()
        try:
            verdicts = check_claims(source, claims)
        except Exception as exc:  # report it and go on with the other articles
            seconds += time.perf_counter() - t0
            failures.append(f"{article_id}:\n{traceback.format_exc()}")
            for bullet in bullets:
                bullet.failure = f"{type(exc).__name__}: {exc}"
            continue
        seconds += time.perf_counter() - t0
        if len(verdicts) != len(bullets):
            die(
                f"check_claims returned {len(verdicts)} verdicts for {len(bullets)} claims "
                f"({article_id})",
                code=1,
            )
        for bullet, verdict in zip(bullets, verdicts, strict=True):
            bullet.verdict = verdict
            for fig in bullet.figures:
                if fig.start < 0:
                    continue
                fig.matches = [
                    fv
                    for fv in verdict.figures
                    if fv.figure.start < fig.end and fig.start < fv.figure.end
                ]
    return seconds, failures


def unlabelled_verdicts(bullet: Bullet) -> list[FigureVerdict]:
    """The validator's figures in ``bullet`` that overlap no labelled figure."""
    if bullet.verdict is None:
        return []
    matched = {id(fv) for f in bullet.figures for fv in f.matches}
    return [fv for fv in bullet.verdict.figures if id(fv) not in matched]


def summary(bullets: list[Bullet], seconds: float) -> dict[str, Any]:
    by_expected: dict[str, list[Bullet]] = defaultdict(list)
    for b in bullets:
        by_expected[b.expected].append(b)
    unsupported = by_expected.get("unsupported", [])
    supported = by_expected.get("supported", [])
    caught = sum(b.flagged for b in unsupported)
    rejected = sum(b.flagged for b in supported)

    per_error: dict[str, dict[str, Any]] = {}
    for b in bullets:
        key = b.error or "none"
        entry = per_error.setdefault(key, {"bullets": 0, "flagged": 0, "expected": Counter()})
        entry["bullets"] += 1
        entry["flagged"] += int(b.flagged)
        entry["expected"][b.expected] += 1
    for entry in per_error.values():
        entry["expected"] = dict(entry["expected"])

    separate = {
        cat: {"bullets": len(group), "flagged": sum(b.flagged for b in group)}
        for cat, group in by_expected.items()
        if cat not in ("supported", "unsupported")
    }

    figure_table: dict[str, dict[str, int]] = {}
    for b in bullets:
        if b.verdict is None:
            continue
        for f in b.figures:
            row = figure_table.setdefault(f.label, dict.fromkeys(FIGURE_OUTCOMES, 0))
            row[f.outcome] += 1
    unlabelled: Counter[str] = Counter()
    for b in bullets:
        for fv in unlabelled_verdicts(b):
            unlabelled[f"{fv.status}"] += 1
    return {
        "bullets": len(bullets),
        "expected_unsupported": len(unsupported),
        "caught": caught,
        "caught_rate": ratio(caught, len(unsupported)),
        "expected_supported": len(supported),
        "falsely_rejected": rejected,
        "false_rejection_rate": ratio(rejected, len(supported)),
        "per_error": per_error,
        "separate": separate,
        "figures_by_label": figure_table,
        "labelled_figures_absent_from_bullet": sum(
            1 for b in bullets for f in b.figures if f.start < 0
        ),
        "unlabelled_validator_figures": dict(unlabelled),
        "failed_bullets": sum(b.verdict is None for b in bullets),
        "check_claims_seconds": seconds,
        "bullets_per_second": ratio(len(bullets), seconds),
    }


def print_report(stats: dict[str, Any], n_articles: int, failures: list[str]) -> None:
    print(f"Paraphrase suite: {stats['bullets']:,} bullets about {n_articles} articles")
    print()
    print(
        f"caught (unsupported bullets flagged): "
        f"{pct(stats['caught'], stats['expected_unsupported'])}  "
        f"({stats['caught']:,} / {stats['expected_unsupported']:,})"
    )
    print(
        f"false rejections (faithful bullets flagged): "
        f"{pct(stats['falsely_rejected'], stats['expected_supported'])}  "
        f"({stats['falsely_rejected']:,} / {stats['expected_supported']:,})"
    )
    for cat, entry in sorted(stats["separate"].items()):
        print(
            f"{cat} bullets flagged (reported separately): "
            f"{entry['flagged']:,} / {entry['bullets']:,}  ({pct(entry['flagged'], entry['bullets'])})"
        )
    if stats["failed_bullets"]:
        print(
            f"bullets not judged because check_claims raised: {stats['failed_bullets']} "
            f"(first failure below)"
        )
        print(failures[0])
    print()

    rows = []
    for error, entry in sorted(stats["per_error"].items(), key=lambda kv: (kv[0] == "none", kv[0])):
        expected = ", ".join(f"{k} {v}" for k, v in sorted(entry["expected"].items()))
        rows.append(
            [
                error,
                entry["bullets"],
                entry["flagged"],
                pct(entry["flagged"], entry["bullets"]),
                expected,
            ]
        )
    print(
        table(
            ["error", "bullets", "flagged", "%", "expected verdicts"],
            rows,
            "Flagged bullets per error type (error 'none': flagged = rejected)",
        )
    )
    print()

    labels = [lb for lb in LABEL_ORDER if lb in stats["figures_by_label"]]
    labels += sorted(set(stats["figures_by_label"]) - set(labels))
    rows = []
    for label in labels:
        row = stats["figures_by_label"][label]
        total = sum(row.values())
        rows.append(
            [label, total] + [row[o] for o in FIGURE_OUTCOMES] + [pct(row["unsupported"], total)]
        )
    print(
        table(
            ["label", "figures", *FIGURE_OUTCOMES, "% unsupported"],
            rows,
            "Labelled figures: the validator's verdict on the figures overlapping each",
        )
    )
    unl = stats["unlabelled_validator_figures"]
    print(
        f"validator figures overlapping no labelled figure: {sum(unl.values()):,} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(unl.items())) or 'none'})"
    )
    if stats["labelled_figures_absent_from_bullet"]:
        print(
            f"labelled figures whose text is not in their bullet: "
            f"{stats['labelled_figures_absent_from_bullet']}"
        )
    print()
    print(
        f"speed: {stats['bullets']:,} bullets in {stats['check_claims_seconds']:.3f} s of "
        f"check_claims ({n_articles} calls) = {stats['bullets_per_second'] or 0:,.0f} bullets/s"
    )


def print_bullet(b: Bullet) -> None:
    print(
        f"\n  {b.id}  error={b.error}  expected={b.expected}  "
        f"got={'error' if b.verdict is None else ('unsupported' if b.flagged else 'supported')}"
    )
    print(f"  text: {b.text}")
    print("  labelled figures:")
    for f in b.figures:
        hedge = f" hedge={f.hedge!r}" if f.hedge else ""
        print(
            f"    {f.text!r:<24} {f.label:<13}{hedge} source_text={f.source_text!r} -> {f.outcome}"
        )
    if b.verdict is None:
        print(f"  validator error: {b.failure}")
        return
    print("  validator figures:")
    if not b.verdict.figures:
        print("    (none found)")
    for fv in b.verdict.figures:
        print(describe_figure_verdict(fv))


def print_disagreements(bullets: list[Bullet], limit: int) -> None:
    missed = [b for b in bullets if b.expected == "unsupported" and not b.flagged]
    rejected = [b for b in bullets if b.expected == "supported" and b.flagged]
    for title, group in (
        ("Missed unsupported bullets", missed),
        ("Falsely rejected faithful bullets", rejected),
    ):
        print(f"\n== {title}: {len(group)}, showing {min(limit, len(group))}")
        for b in group[:limit]:
            print_bullet(b)


def bullet_to_dict(b: Bullet) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": b.id,
        "error": b.error,
        "expected": b.expected,
        "flagged": b.flagged,
        "text": b.text,
        "labelled": [
            {
                "text": f.text,
                "label": f.label,
                "hedge": f.hedge,
                "source_text": f.source_text,
                "outcome": f.outcome,
            }
            for f in b.figures
        ],
    }
    if b.verdict is not None:
        item["figures"] = [figure_verdict_to_dict(fv) for fv in b.verdict.figures]
    else:
        item["failure"] = b.failure
    return item


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--suite",
        type=Path,
        default=PARAPHRASE_SUITE_DIR,
        help=f"suite folder or its claims.jsonl (default: {PARAPHRASE_SUITE_DIR})",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA_DIR,
        help=f"data folder that source_path is relative to (default: {DATA_DIR})",
    )
    parser.add_argument(
        "--show",
        type=int,
        default=0,
        metavar="N",
        help="print up to N missed and N falsely rejected bullets",
    )
    parser.add_argument(
        "--json",
        metavar="OUT",
        help="write the summary figures and the per-bullet verdicts as JSON",
    )
    args = parser.parse_args(argv)

    suite_file = args.suite / "claims.jsonl" if args.suite.is_dir() else args.suite
    require_file(suite_file, "paraphrase suite claims.jsonl")
    require_dir(args.data, "data folder")
    articles = load_bullets(suite_file, args.data)
    bullets = [b for _, _, group in articles for b in group]
    if not bullets:
        die(f"no bullets in {suite_file}")
    seconds, failures = run_suite(articles)
    stats = summary(bullets, seconds)
    print_report(stats, len(articles), failures)
    if args.show > 0:
        print_disagreements(bullets, args.show)
    if args.json:
        write_json(
            args.json,
            {
                "benchmark": "paraphrase_suite",
                "summary": stats,
                "bullets": [bullet_to_dict(b) for b in bullets],
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
