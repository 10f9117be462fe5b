"""The ``validate`` task: the validator alone, on the validator and paraphrase suites.

Stage: eval scoring. In: an item whose payload is ``{"source", "claims": [text]}`` and whose
expected answer is ``{"supported": True | False | None}``. Out: a sample whose output holds the
verdict on every figure, scored as

- ``caught`` (1/0) when the claim is expected unsupported: did the validator flag it;
- ``false_alarm`` (1/0) when it is expected supported: did the validator flag it anyway;
- ``flagged`` (1/0) for every item, and the only score of the paraphrase suite's ``derived``
  and ``misattributed`` bullets (expected None: no right answer for a value-level checker);
- ``correct`` (1/0) when there is a right answer; ``loss`` is 1 when it is wrong.

``aggregate`` gives the detection rate and the false-alarm rate (lower is better), overall and
per kind, each with a Wilson interval; the correct rate; and for the paraphrase suite the
flagged rates of derived bullets (lower is better: their values are right, a checker that
verified operands would pass them) and of misattributed ones (higher is better).

The validator keeps an index of the last few sources it read, keyed by the source string;
items of one source are consecutive in the datasets, so a suite costs one parse per source.
"""

from __future__ import annotations

import time
from typing import Any

from evals.core import Item, MetricValue, Sample, TaskName
from evals.metrics import rate
from evals.tasks._common import error_rate, highlight, kinds, ok_samples
from summariser import Claim, ClaimVerdict, check_claims
from summariser.settings import Settings


def score(expected_supported: bool | None, flagged: bool) -> tuple[dict[str, float | None], float]:
    """The item's scores and loss, given what was expected and whether it was flagged."""
    hit = float(flagged)
    scores: dict[str, float | None] = {
        "caught": hit if expected_supported is False else None,
        "false_alarm": hit if expected_supported is True else None,
        "flagged": hit,
        "correct": None,
    }
    if expected_supported is None:
        return scores, 0.0
    correct = flagged != expected_supported
    scores["correct"] = float(correct)
    return scores, 0.0 if correct else 1.0


def verdict_output(verdict: ClaimVerdict) -> dict[str, Any]:
    return {
        "claim": verdict.text,
        "supported": verdict.supported,
        "figures": [
            {
                "text": fv.figure.text,
                "status": fv.status.value,
                "reason": fv.reason.value,
                "evidence": [s.text for s in fv.evidence],
                "hints": [s.text for s in fv.hints],
            }
            for fv in verdict.figures
        ],
    }


def verdict_highlight(source: str, verdicts: list[ClaimVerdict]) -> dict[str, Any] | None:
    """The source around the evidence or hints of the claims' figures (unsupported first)."""
    spans: list[dict[str, Any]] = []
    figures = [fv for v in verdicts for fv in v.figures]
    figures.sort(key=lambda fv: fv.status.value != "unsupported")
    for fv in figures:
        for span in fv.evidence:
            spans.append(
                {
                    "start": span.start,
                    "end": span.end,
                    "status": "supported",
                    "label": f"evidence for {fv.figure.text}",
                }
            )
        for span in fv.hints:
            spans.append(
                {
                    "start": span.start,
                    "end": span.end,
                    "status": "unsupported",
                    "label": f"closest to {fv.figure.text} ({fv.reason.value})",
                }
            )
    return highlight(source, spans, note=" / ".join(v.text for v in verdicts))


class ValidateTask:
    name: TaskName = "validate"

    async def run(self, item: Item, settings: Settings) -> Sample:
        source = item.payload["source"]
        started = time.perf_counter()
        verdicts = check_claims(source, [Claim(text) for text in item.payload["claims"]])
        latency = time.perf_counter() - started
        flagged = not all(v.supported for v in verdicts)
        scores, loss = score(item.expected.get("supported"), flagged)
        outputs = [verdict_output(v) for v in verdicts]
        return Sample(
            id=item.id,
            kind=item.kind,
            input_ref=item.input_ref,
            output=outputs[0] if len(outputs) == 1 else {"claims": outputs},
            expected=item.expected,
            scores=scores,
            loss=loss,
            latency_s=latency,
            highlight=verdict_highlight(source, verdicts),
        )

    def aggregate(self, samples: list[Sample]) -> list[MetricValue]:
        ok = ok_samples(samples)
        out = [error_rate(samples)]
        rates = (
            ("detection_rate", "caught", True),
            ("false_alarm_rate", "false_alarm", False),
            ("correct_rate", "correct", True),
        )
        for slice_name, group in [(None, ok)] + [
            (kind, [s for s in ok if s.kind == kind]) for kind in kinds(ok)
        ]:
            for name, key, better in rates:
                metric = rate(group, key, name=name, slice=slice_name, higher_is_better=better)
                if metric.count:
                    out.append(metric)
        for category, better in (("derived", False), ("misattributed", True)):
            group = [s for s in ok if s.expected.get("category") == category]
            if group:
                out.append(
                    rate(group, "flagged", name=f"{category}_flagged_rate", higher_is_better=better)
                )
        return out
