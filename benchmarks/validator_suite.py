"""Numeric-claim suite: how well ``check_claims`` tells supported claims from perturbed ones.

Reads the development split in ``../shared/validator_suite`` (``cases.jsonl`` and
``sources/<source>.txt``; see its README.md), groups the claims by source and calls
``check_claims(source_text, [Claim(text, id=...), ...])`` once per source. A claim is judged
unsupported when its ``ClaimVerdict.supported`` is false. Prints:

- the number of claims; the caught rate of the claims expected unsupported and the false
  rejection rate of those expected supported (with counts);
- accuracy per kind of case (count, correct, %) and the figure statuses/reasons per kind;
- claims per second: over the wall time of the ``check_claims`` calls only (which includes the
  validator's own parsing of each source), and end to end (reading and decoding the case file
  and the sources as well).

Run from the repository root::

    python benchmarks/validator_suite.py                  # whole suite
    python benchmarks/validator_suite.py --show 10        # + up to 10 disagreements per kind
    python benchmarks/validator_suite.py --kind scale_rewrite --show 30
    python benchmarks/validator_suite.py --json /tmp/validator_suite.json

Exits 2 when the suite is absent, 1 when the validator is not implemented, 0 otherwise.
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
    VALIDATOR_SUITE_DIR,
    describe_figure_verdict,
    die,
    figure_verdict_to_dict,
    pct,
    ratio,
    read_jsonl,
    require_dir,
    require_file,
    shorten,
    table,
    write_json,
)

from evals.datasets import VALIDATOR_SUPPORTED_KINDS as SUPPORTED_KINDS
from evals.datasets import VALIDATOR_UNSUPPORTED_KINDS as UNSUPPORTED_KINDS
from summariser import Claim, ClaimVerdict, check_claims


@dataclass
class Case:
    id: str
    source: str
    claim: str
    expect: str
    kind: str
    verdict: ClaimVerdict | None = None
    error: str | None = None

    @property
    def predicted(self) -> str:
        if self.verdict is None:
            return "error"
        return "supported" if self.verdict.supported else "unsupported"

    @property
    def correct(self) -> bool:
        return self.predicted == self.expect


@dataclass
class Run:
    cases: list[Case]
    n_sources: int
    check_seconds: float
    total_seconds: float
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, traceback)


def load_cases(suite: Path, kinds: set[str] | None) -> list[Case]:
    cases_path = require_file(suite / "cases.jsonl", "validator suite cases.jsonl")
    cases = []
    for row in read_jsonl(cases_path):
        try:
            case = Case(
                id=str(row["id"]),
                source=str(row["source"]),
                claim=str(row["claim"]),
                expect=str(row["expect"]),
                kind=str(row["kind"]),
            )
        except KeyError as exc:
            die(f"{cases_path}: a case lacks the field {exc}")
        if kinds is None or case.kind in kinds:
            cases.append(case)
    return cases


def run_suite(suite: Path, kinds: set[str] | None) -> Run:
    started = time.perf_counter()
    require_dir(suite, "validator suite")
    sources_dir = require_dir(suite / "sources", "validator suite sources/")
    cases = load_cases(suite, kinds)
    by_source: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_source[case.source].append(case)

    check_seconds = 0.0
    errors: list[tuple[str, str]] = []
    for source_id, group in by_source.items():
        path = sources_dir / f"{source_id}.txt"
        if not path.is_file():
            die(f"source {source_id!r} of case {group[0].id} not found at {path}")
        source_text = path.read_text(encoding="utf-8")
        claims = [Claim(case.claim, id=case.id) for case in group]
        t0 = time.perf_counter()
        try:
            verdicts = check_claims(source_text, claims)
        except Exception as exc:  # report it and go on with the other sources
            check_seconds += time.perf_counter() - t0
            errors.append((source_id, traceback.format_exc()))
            for case in group:
                case.error = f"{type(exc).__name__}: {exc}"
            continue
        check_seconds += time.perf_counter() - t0
        if len(verdicts) != len(group):
            die(
                f"check_claims returned {len(verdicts)} verdicts for {len(group)} claims "
                f"(source {source_id})",
                code=1,
            )
        for case, verdict in zip(group, verdicts, strict=True):
            if verdict.id is not None and verdict.id != case.id:
                die(f"verdict id {verdict.id!r} where {case.id!r} was expected", code=1)
            case.verdict = verdict
    total_seconds = time.perf_counter() - started
    return Run(cases, len(by_source), check_seconds, total_seconds, errors)


def summary(run: Run) -> dict[str, Any]:
    cases = run.cases
    unsupported = [c for c in cases if c.expect == "unsupported"]
    supported = [c for c in cases if c.expect == "supported"]
    caught = sum(c.predicted == "unsupported" for c in unsupported)
    rejected = sum(c.predicted == "unsupported" for c in supported)
    per_kind: dict[str, dict[str, Any]] = {}
    for kind in _kinds_in_order(cases):
        group = [c for c in cases if c.kind == kind]
        correct = sum(c.correct for c in group)
        per_kind[kind] = {
            "expect": group[0].expect,
            "count": len(group),
            "correct": correct,
            "accuracy": ratio(correct, len(group)),
            "errors": sum(c.verdict is None for c in group),
        }
    n = len(cases)
    return {
        "claims": n,
        "sources": run.n_sources,
        "expected_unsupported": len(unsupported),
        "caught": caught,
        "caught_rate": ratio(caught, len(unsupported)),
        "expected_supported": len(supported),
        "falsely_rejected": rejected,
        "false_rejection_rate": ratio(rejected, len(supported)),
        "accuracy": ratio(sum(c.correct for c in cases), n),
        "per_kind": per_kind,
        "errors": sum(c.verdict is None for c in cases),
        "check_claims_seconds": run.check_seconds,
        "claims_per_second_check_claims": ratio(n, run.check_seconds),
        "end_to_end_seconds": run.total_seconds,
        "claims_per_second_end_to_end": ratio(n, run.total_seconds),
        "claims_without_checked_figure": sum(
            1 for c in cases if c.verdict is not None and not _checked(c.verdict)
        ),
    }


def _checked(verdict: ClaimVerdict) -> bool:
    return any(str(f.status) != "skipped" for f in verdict.figures)


def _kinds_in_order(cases: list[Case]) -> list[str]:
    present = {c.kind for c in cases}
    known = [k for k in SUPPORTED_KINDS + UNSUPPORTED_KINDS if k in present]
    return known + sorted(present - set(known))


def print_report(run: Run, stats: dict[str, Any]) -> None:
    print(f"Validator suite: {stats['claims']:,} claims about {stats['sources']:,} sources")
    print()
    print(
        f"caught (unsupported judged unsupported): {pct(stats['caught'], stats['expected_unsupported'])}"
        f"  ({stats['caught']:,} / {stats['expected_unsupported']:,})"
    )
    print(
        f"false rejections (supported judged unsupported): "
        f"{pct(stats['falsely_rejected'], stats['expected_supported'])}"
        f"  ({stats['falsely_rejected']:,} / {stats['expected_supported']:,})"
    )
    print(f"overall accuracy: {pct(sum(c.correct for c in run.cases), stats['claims'])}")
    print(
        f"claims where no figure was checked (none found, or all skipped): "
        f"{stats['claims_without_checked_figure']:,}"
    )
    if stats["errors"]:
        print(
            f"claims not judged because check_claims raised: {stats['errors']:,} "
            f"(in {len(run.errors)} sources; first traceback below)"
        )
        print(run.errors[0][1])
    print()
    rows = [
        [kind, v["expect"], v["count"], v["correct"], pct(v["correct"], v["count"])]
        for kind, v in stats["per_kind"].items()
    ]
    print(table(["kind", "expect", "count", "correct", "%"], rows, "Accuracy per kind"))
    print()
    print(reason_table(run.cases))
    print()
    n = stats["claims"]
    rows = [
        [
            "check_claims calls only",
            f"{run.check_seconds:.3f}",
            f"{stats['claims_per_second_check_claims'] or 0:,.0f}",
        ],
        [
            "end to end (+ reading cases and sources)",
            f"{run.total_seconds:.3f}",
            f"{stats['claims_per_second_end_to_end'] or 0:,.0f}",
        ],
    ]
    print(
        table(
            ["timing", "seconds", "claims/s"],
            rows,
            f"Speed ({n:,} claims, {stats['sources']:,} check_claims calls; the validator's "
            "parsing of each source is inside check_claims)",
        )
    )


def reason_table(cases: list[Case]) -> str:
    """For each kind: how the figures of its claims were judged (status/reason counts)."""
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        if case.verdict is None:
            continue
        for fv in case.verdict.figures:
            per_kind[case.kind][f"{fv.status}/{fv.reason}"] += 1
    rows = []
    for kind in _kinds_in_order(cases):
        counts = per_kind.get(kind, Counter())
        top = ", ".join(f"{k} {v:,}" for k, v in counts.most_common(4))
        rows.append([kind, sum(counts.values()), top or "-"])
    return table(["kind", "figures", "most common status/reason"], rows, "Figure verdicts per kind")


def print_disagreements(run: Run, per_kind: int, sources_dir: Path) -> None:
    print()
    print(f"Disagreements (up to {per_kind} per kind)")
    for kind in _kinds_in_order(run.cases):
        wrong = [c for c in run.cases if c.kind == kind and not c.correct]
        if not wrong:
            continue
        print(f"\n== {kind}: {len(wrong):,} disagreements, showing {min(per_kind, len(wrong))}")
        for case in wrong[:per_kind]:
            print(
                f"\n  {case.id}  kind={case.kind}  expected={case.expect}  "
                f"got={case.predicted}  source={sources_dir / (case.source + '.txt')}"
            )
            print(f"  claim: {shorten(case.claim, 400)}")
            if case.verdict is None:
                print(f"    error: {case.error}")
                continue
            if not case.verdict.figures:
                print("    (no figures found in the claim)")
            for fv in case.verdict.figures:
                print(describe_figure_verdict(fv))


def json_payload(run: Run, stats: dict[str, Any]) -> dict[str, Any]:
    disagreements = []
    for case in run.cases:
        if case.correct:
            continue
        item: dict[str, Any] = {
            "id": case.id,
            "source": case.source,
            "kind": case.kind,
            "expect": case.expect,
            "predicted": case.predicted,
            "claim": case.claim,
        }
        if case.verdict is not None:
            item["figures"] = [figure_verdict_to_dict(fv) for fv in case.verdict.figures]
        else:
            item["error"] = case.error
        disagreements.append(item)
    return {"benchmark": "validator_suite", "summary": stats, "disagreements": disagreements}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--suite",
        type=Path,
        default=VALIDATOR_SUITE_DIR,
        help=f"suite folder (default: {VALIDATOR_SUITE_DIR})",
    )
    parser.add_argument(
        "--show", type=int, default=0, metavar="N", help="print up to N disagreements per kind"
    )
    parser.add_argument(
        "--kind",
        action="append",
        metavar="K",
        help="only cases of kind K (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--json",
        metavar="OUT",
        help="write the summary figures and the disagreements as JSON to OUT",
    )
    args = parser.parse_args(argv)

    kinds = None
    if args.kind:
        kinds = {k.strip() for arg in args.kind for k in arg.split(",") if k.strip()}
    run = run_suite(args.suite, kinds)
    if not run.cases:
        die(f"no cases of kind {sorted(kinds or [])} in {args.suite / 'cases.jsonl'}")
    stats = summary(run)
    print_report(run, stats)
    if args.show > 0:
        print_disagreements(run, args.show, args.suite / "sources")
    if args.json:
        write_json(args.json, json_payload(run, stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
