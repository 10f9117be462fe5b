"""Loaders for the validator's own test suites: numeric claims, and model-style summary bullets.

Stage: eval input (file I/O only). In: a :class:`~evals.datasets.reader.Reader` on the data
folder. Out: ``validate`` items, each a source text and one claim (``payload``) with whether the
source supports it (``expected``).

- ``validator-suite`` (``validator_suite/cases.jsonl`` and its ``sources/``): one claim, kept
  true or perturbed; ``kind`` is its perturbation kind.
- ``paraphrase-suite`` (``paraphrase_suite/claims.jsonl`` over articles in ``data/``): one
  summary bullet whose figures are labelled; :func:`paraphrase_category` turns the labels into
  the expected verdict, and ``kind`` is the bullet's error type, ``derived`` or ``none``.
"""

from __future__ import annotations

from evals.core import Item
from evals.datasets.reader import DatasetError, Reader, checked_field

VALIDATOR_SUPPORTED_KINDS = (
    "verbatim",
    "scale_rewrite",
    "scale_word",
    "percent_word",
    "hedged_round",
)
VALIDATOR_UNSUPPORTED_KINDS = ("digit_change", "decimal_shift", "scale_swap", "percent_change")
# Paraphrase suite figure labels (see its README): which make a bullet unsupported / faithful.
UNSUPPORTED_LABELS = frozenset({"wrong_value", "invented"})
FAITHFUL_LABELS = frozenset({"in_source", "rounded"})
_EXPECTED_SUPPORTED: dict[str, bool | None] = {"faithful": True, "unsupported": False}


def validator_suite(reader: Reader) -> list[Item]:
    """The validator-suite items: one claim each, kept true or perturbed, against its source."""
    folder = reader.folder("validator_suite")
    cases = folder / "cases.jsonl"
    sources: dict[str, str] = {}
    items = []
    for line, row in reader.jsonl(cases):
        case_id = checked_field(row, "id", str, cases, line)
        source = checked_field(row, "source", str, cases, line)
        claim = checked_field(row, "claim", str, cases, line)
        expect = checked_field(row, "expect", str, cases, line)
        kind = checked_field(row, "kind", str, cases, line)
        if expect not in ("supported", "unsupported"):
            raise DatasetError(
                f"expect must be supported or unsupported, got {expect!r}", path=cases, line=line
            )
        if source not in sources:
            sources[source] = reader.text(folder / "sources" / f"{source}.txt")
        items.append(
            Item(
                id=case_id,
                kind=kind,
                input_ref=f"{source}#{case_id}",
                # one string object per source: the validator's index cache is keyed by it
                payload={"source": sources[source], "claims": [claim]},
                expected={"supported": expect == "supported"},
            )
        )
    return items


def paraphrase_category(labels: set[str] | frozenset[str]) -> str:
    """A bullet's expected verdict from its figures' labels (see the suite's README):
    ``unsupported``, ``faithful``, or the separate ``misattributed`` / ``derived``."""
    if labels & UNSUPPORTED_LABELS:
        return "unsupported"
    if labels <= FAITHFUL_LABELS:
        return "faithful"
    if "misattributed" in labels:
        return "misattributed"
    if "derived" in labels:
        return "derived"
    return "other:" + ",".join(sorted(labels - FAITHFUL_LABELS))


def paraphrase_suite(reader: Reader) -> list[Item]:
    """The paraphrase-suite items: one summary bullet each, against its article."""
    suite = reader.folder("paraphrase_suite") / "claims.jsonl"
    items = []
    for line, row in reader.jsonl(suite):
        article_id = checked_field(row, "id", str, suite, line)
        source_path = checked_field(row, "source_path", str, suite, line)
        source = reader.text(reader.path("data") / source_path)
        for claim in checked_field(row, "claims", list, suite, line):
            if not isinstance(claim, dict):
                raise DatasetError("each claim must be an object", path=suite, line=line)
            figures = checked_field(claim, "figures", list, suite, line)
            if not all(isinstance(f, dict) and isinstance(f.get("label"), str) for f in figures):
                raise DatasetError("each figure needs a string label", path=suite, line=line)
            category = paraphrase_category({f["label"] for f in figures})
            error = claim.get("error")
            kind = (
                error
                if isinstance(error, str)
                else ("derived" if category == "derived" else "none")
            )
            bullet_id = checked_field(claim, "id", str, suite, line)
            items.append(
                Item(
                    id=bullet_id,
                    kind=kind,
                    input_ref=f"{article_id}#{bullet_id}",
                    payload={
                        "source": source,
                        "claims": [checked_field(claim, "text", str, suite, line)],
                    },
                    expected={
                        "supported": _EXPECTED_SUPPORTED.get(category),
                        "category": category,
                        "figures": figures,
                    },
                )
            )
    return items
