"""The ``sentiment`` task: the pipeline's sentiment of one sentence or headline.

Stage: eval scoring. In: an item with payload ``{"text"}`` and expected ``{"label"}``
(Financial PhraseBank: positive / negative / neutral) or ``{"score", "label"}`` (FiQA and
SemEval: a gold score in -1..1, its label by :func:`evals.datasets.sentiment_label`). The
whole pipeline runs on the text (``asummarise``) and ``summary.sentiment`` is the prediction.
Out: a sample with the predicted label and score, scored

- PhraseBank: ``correct`` (1/0); a ``mixed`` prediction is simply wrong;
- FiQA: ``squared_error`` ((predicted - gold) squared) and ``sign_correct`` (the predicted
  score's label, with the same neutral band, equals the gold one).

``aggregate``: PhraseBank accuracy (Wilson) and macro-F1 over the three labels (bootstrap),
overall and per agreement level; FiQA Pearson's and Spearman's correlation of the predicted
score with the gold one (bootstrap), the mean squared error and the sign accuracy, overall and
per subset. The confusion matrix is for the report to build from ``output.label`` and
``expected.label``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from evals.core import Item, MetricValue, Sample, TaskName
from evals.datasets import PHRASEBANK_LABELS, sentiment_label
from evals.metrics import macro_f1, mean_metric, paired, pearson, rate, spearman, statistic
from evals.tasks._common import error_rate, kinds, ok_samples, usage
from summariser.backends.base import Backend
from summariser.pipeline import asummarise
from summariser.settings import Settings


def sentiment_scores(
    expected: dict[str, object], label: str, score: float
) -> tuple[dict[str, float | None], float]:
    """The item's scores and loss for a predicted ``label`` and ``score``."""
    gold_score = expected.get("score")
    if isinstance(gold_score, int | float):
        error = (score - gold_score) ** 2
        sign = float(sentiment_label(score) == sentiment_label(gold_score))
        return {"squared_error": error, "sign_correct": sign}, min(1.0, error / 4)
    correct = float(label == expected.get("label"))
    return {"correct": correct}, 1.0 - correct


class SentimentTask:
    name: TaskName = "sentiment"

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend

    async def run(self, item: Item, settings: Settings) -> Sample:
        started = time.perf_counter()
        summary = await asummarise(item.payload["text"], settings=settings, backend=self.backend)
        latency = time.perf_counter() - started
        label, score = summary.sentiment.label, summary.sentiment.score
        scores, loss = sentiment_scores(item.expected, label, score)
        tokens, cost = usage(summary)
        return Sample(
            id=item.id,
            kind=item.kind,
            input_ref=item.input_ref,
            output={"label": label, "score": score, "text": item.payload["text"]},
            expected=item.expected,
            scores=scores,
            loss=loss,
            latency_s=latency,
            tokens=tokens,
            cost_usd=cost,
        )

    def aggregate(self, samples: list[Sample]) -> list[MetricValue]:
        ok = ok_samples(samples)
        out = [error_rate(samples)]
        groups: list[tuple[str | None, list[Sample]]] = [(None, ok)]
        groups += [(kind, [s for s in ok if s.kind == kind]) for kind in kinds(ok)]
        for slice_name, group in groups:
            if any("squared_error" in s.scores for s in group):
                out.extend(_scored(group, slice_name))
            else:
                out.extend(_labelled(group, slice_name))
        return out


def _labelled(group: Sequence[Sample], slice_name: str | None) -> list[MetricValue]:
    pairs = [(str(s.expected.get("label")), str(s.output.get("label"))) for s in group]

    def f1(resampled: Sequence[tuple[str, str]]) -> float | None:
        return macro_f1([g for g, _ in resampled], [p for _, p in resampled], PHRASEBANK_LABELS)

    return [
        rate(group, "correct", name="accuracy", slice=slice_name),
        statistic("macro_f1", pairs, f1, slice=slice_name),
    ]


def _scored(group: Sequence[Sample], slice_name: str | None) -> list[MetricValue]:
    pairs = [
        (float(s.output["score"]), float(s.expected["score"]))
        for s in group
        if s.output.get("score") is not None
    ]
    return [
        statistic("pearson", pairs, paired(pearson), slice=slice_name),
        statistic("spearman", pairs, paired(spearman), slice=slice_name),
        mean_metric(group, "squared_error", name="mse", slice=slice_name, higher_is_better=False),
        rate(group, "sign_correct", name="sign_accuracy", slice=slice_name),
    ]
