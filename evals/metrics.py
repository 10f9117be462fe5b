"""Metric functions: plain numbers in, plain numbers out (pure Python, no numpy).

Stage: eval scoring (pure). Every function here can be checked by hand; the tests do so.

- Intervals: :func:`wilson_interval` for a proportion, :func:`bootstrap_interval` (percentile
  bootstrap, seeded, so a run is reproducible) for anything else.
- Over samples: :func:`rate` (a 0/1 score, Wilson CI) and :func:`mean_metric` (any score,
  bootstrap CI) turn ``Sample.scores[key]`` into a :class:`MetricValue`, ignoring None.
- Over labels and series: :func:`accuracy`, :func:`macro_f1`, :func:`confusion_matrix`,
  :func:`pearson`, :func:`spearman`, :func:`mse`, :func:`recall_at_k`.

Undefined values are None, never NaN: an empty series, a correlation of a constant series.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar, cast

from evals.core import MetricValue, Sample

T = TypeVar("T")
U = TypeVar("U")


def wilson_interval(successes: int | float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n`` (95% for z = 1.96).

    With no trials there is no information: (0.0, 1.0)."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolating linearly between neighbours."""
    if not ordered:
        raise ValueError("quantile of nothing")
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def bootstrap_interval(
    values: Sequence[T],
    stat: Callable[[Sequence[T]], float | None] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``stat`` over ``values`` (resampled with replacement,
    ``n_resamples`` times, from a generator seeded with ``seed``); ``stat`` defaults to the
    mean. ``values`` may hold pairs for a paired statistic. Resamples where ``stat`` is
    undefined (None) are dropped; None when none is defined or there are no values."""
    if not values:
        return None
    # the default reads T as float: a caller passing non-numbers passes their own stat
    compute = stat if stat is not None else cast(Callable[[Sequence[T]], float | None], mean)
    rng = random.Random(seed)
    n = len(values)
    stats = []
    for _ in range(n_resamples):
        value = compute(rng.choices(values, k=n))
        if value is not None and not math.isnan(value):
            stats.append(value)
    if not stats:
        return None
    stats.sort()
    return quantile(stats, alpha / 2), quantile(stats, 1 - alpha / 2)


def _scores(samples: Iterable[Sample], key: str) -> list[float]:
    out = []
    for sample in samples:
        value = sample.scores.get(key)
        if value is not None:
            out.append(float(value))
    return out


def rate(
    samples: Iterable[Sample],
    key: str,
    *,
    name: str | None = None,
    slice: str | None = None,
    higher_is_better: bool = True,
) -> MetricValue:
    """The mean of a 0/1 score over the samples that have it, with its Wilson interval."""
    values = _scores(samples, key)
    if any(v not in (0.0, 1.0) for v in values):
        raise ValueError(f"rate needs 0/1 scores; {key!r} has others")
    n = len(values)
    low, high = wilson_interval(sum(values), n) if n else (None, None)
    return MetricValue(
        name=name or key,
        value=sum(values) / n if n else None,
        count=n,
        low=low,
        high=high,
        method="wilson",
        higher_is_better=higher_is_better,
        slice=slice,
    )


def mean_metric(
    samples: Iterable[Sample],
    key: str,
    *,
    name: str | None = None,
    slice: str | None = None,
    higher_is_better: bool = True,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricValue:
    """The mean of a score over the samples that have it, with a bootstrap interval."""
    values = _scores(samples, key)
    interval = bootstrap_interval(values, mean, n_resamples=n_resamples, seed=seed)
    return MetricValue(
        name=name or key,
        value=mean(values),
        count=len(values),
        low=interval[0] if interval else None,
        high=interval[1] if interval else None,
        method="bootstrap",
        higher_is_better=higher_is_better,
        slice=slice,
    )


def statistic(
    name: str,
    values: Sequence[T],
    stat: Callable[[Sequence[T]], float | None],
    *,
    slice: str | None = None,
    higher_is_better: bool = True,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricValue:
    """Any statistic of ``values`` (pairs, say) with its bootstrap interval."""
    interval = bootstrap_interval(values, stat, n_resamples=n_resamples, seed=seed)
    return MetricValue(
        name=name,
        value=stat(values) if values else None,
        count=len(values),
        low=interval[0] if interval else None,
        high=interval[1] if interval else None,
        method="bootstrap",
        higher_is_better=higher_is_better,
        slice=slice,
    )


# --- labels -----------------------------------------------------------------------------------


def _check_lengths(a: Sequence[object], b: Sequence[object]) -> None:
    if len(a) != len(b):
        raise ValueError(f"series of different lengths: {len(a)} and {len(b)}")


def accuracy(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float | None:
    """The share of positions where ``pred`` equals ``gold``; None for no items."""
    _check_lengths(gold, pred)
    if not gold:
        return None
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float | None:
    """The unweighted mean of the per-label F1 scores (F1 = 2tp / (2tp + fp + fn)).

    A label that occurs in neither ``gold`` nor ``pred`` has no F1 and is left out of the mean;
    a prediction outside ``labels`` ("mixed", say) counts as a miss of its gold label. None when
    no label occurs."""
    _check_lengths(gold, pred)
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return mean(scores)


def confusion_matrix(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    """Counts with rows for the gold label and columns for the predicted one, both in the
    order of ``labels``; pairs with a label outside ``labels`` are not counted."""
    _check_lengths(gold, pred)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        if g in index and p in index:
            matrix[index[g]][index[p]] += 1
    return matrix


# --- series -----------------------------------------------------------------------------------


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson's correlation; None with fewer than two points or a constant series."""
    _check_lengths(x, y)
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx <= 0 or syy <= 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given the mean of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation: Pearson's over the (tie-averaged) ranks."""
    _check_lengths(x, y)
    return pearson(ranks(x), ranks(y))


def mse(x: Sequence[float], y: Sequence[float]) -> float | None:
    """The mean squared difference; None for empty series."""
    _check_lengths(x, y)
    return mean([(a - b) ** 2 for a, b in zip(x, y, strict=True)])


def paired(
    stat: Callable[[Sequence[float], Sequence[float]], float | None],
) -> Callable[[Sequence[tuple[float, float]]], float | None]:
    """``stat(x, y)`` as a statistic of (x, y) pairs, for :func:`bootstrap_interval`."""

    def over_pairs(pairs: Sequence[tuple[float, float]]) -> float | None:
        return stat([p[0] for p in pairs], [p[1] for p in pairs])

    return over_pairs


def recall_at_k(
    gold: Sequence[T], ranked: Sequence[U], k: int | None, match: Callable[[T, U], bool]
) -> float | None:
    """The share of ``gold`` items that some of the first ``k`` ``ranked`` items match (all of
    them when ``k`` is None); None when there is no gold item."""
    if not gold:
        return None
    top = ranked if k is None else ranked[:k]
    return sum(any(match(g, r) for r in top) for g in gold) / len(gold)
