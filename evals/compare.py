"""Compare two eval runs: metric deltas, whether they are beyond noise, and flipped items.

Stage: evals, pure (over :class:`~evals.store.Run` values read by :func:`evals.store.load_run`).
In: run A (the baseline) and run B (the candidate). Out: a :class:`Comparison`.

For every metric present in both runs, overall and per slice, ``delta = B - A``. A change is
*beyond noise* when the two confidence intervals do not overlap (a conservative test: for
intervals of similar width it is stricter than p < 0.05); when either run has no interval it is
unknown (None). A metric *regresses* when it moves the wrong way (down when
``higher_is_better``, up otherwise) by more than ``max_drop``, in absolute terms. Overall
metrics gate on that alone; per-slice metrics, which are small and noisy, gate only when the
change is also beyond noise, so that one item in a slice of five cannot fail a build.

An item *flipped* when its ``loss`` differs between the runs: better when it went down, worse
when it went up (the largest changes first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from evals.store import Run

_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class MetricDelta:
    name: str
    slice: str | None
    a: float
    b: float
    delta: float
    higher_is_better: bool
    beyond_noise: bool | None  # None when an interval is missing
    regression: bool
    count_a: int
    count_b: int
    interval_a: tuple[float, float] | None
    interval_b: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class Flip:
    id: str
    kind: str
    loss_a: float
    loss_b: float


@dataclass(slots=True)
class Comparison:
    run_a: str
    run_b: str
    max_drop: float
    metrics: list[MetricDelta] = field(default_factory=list)
    better: list[Flip] = field(default_factory=list)
    worse: list[Flip] = field(default_factory=list)
    only_a: int = 0  # items in one run only
    only_b: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricDelta]:
        return [metric for metric in self.metrics if metric.regression]

    def to_dict(self, flips: int = 20) -> dict[str, Any]:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "max_drop": self.max_drop,
            "regressed": bool(self.regressions),
            "metrics": [asdict(metric) for metric in self.metrics],
            "flips": {
                "better": len(self.better),
                "worse": len(self.worse),
                "better_items": [asdict(flip) for flip in self.better[:flips]],
                "worse_items": [asdict(flip) for flip in self.worse[:flips]],
            },
            "only_a": self.only_a,
            "only_b": self.only_b,
            "warnings": self.warnings,
        }


def _metrics(summary: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Every metric of a summary with a value, keyed by (name, slice)."""
    found: dict[tuple[str, str | None], dict[str, Any]] = {}
    groups: list[tuple[str | None, Any]] = [(None, summary.get("metrics") or [])]
    groups += [(kind, values) for kind, values in (summary.get("slices") or {}).items()]
    for kind, values in groups:
        for metric in values or []:
            if isinstance(metric, dict) and isinstance(metric.get("value"), int | float):
                found[(str(metric.get("name")), kind)] = metric
    return found


def _interval(metric: dict[str, Any]) -> tuple[float, float] | None:
    low, high = metric.get("low"), metric.get("high")
    if isinstance(low, int | float) and isinstance(high, int | float):
        return (float(low), float(high))
    return None


def compare_metric(
    name: str, kind: str | None, a: dict[str, Any], b: dict[str, Any], max_drop: float
) -> MetricDelta:
    """One metric's delta from run A to run B, with its noise and regression verdicts."""
    value_a, value_b = float(a["value"]), float(b["value"])
    higher = bool(b.get("higher_is_better", a.get("higher_is_better", True)))
    delta = value_b - value_a
    interval_a, interval_b = _interval(a), _interval(b)
    beyond: bool | None = None
    if interval_a is not None and interval_b is not None:
        beyond = interval_b[0] > interval_a[1] or interval_b[1] < interval_a[0]
    worse_by = -delta if higher else delta
    regression = worse_by > max_drop + _EPSILON and (kind is None or beyond is True)
    return MetricDelta(
        name=name,
        slice=kind,
        a=value_a,
        b=value_b,
        delta=delta,
        higher_is_better=higher,
        beyond_noise=beyond,
        regression=regression,
        count_a=int(a.get("count") or 0),
        count_b=int(b.get("count") or 0),
        interval_a=interval_a,
        interval_b=interval_b,
    )


def _warnings(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    data_a, data_b = a.get("dataset") or {}, b.get("dataset") or {}
    if data_a.get("name") != data_b.get("name"):
        notes.append(
            f"the runs are of different datasets ({data_a.get('name')!r} and "
            f"{data_b.get('name')!r}): the comparison is not meaningful"
        )
    elif data_a.get("version") != data_b.get("version"):
        notes.append(
            f"dataset versions differ ({data_a.get('version')} and {data_b.get('version')}): "
            "the items may not be the same"
        )
    if data_a.get("size") != data_b.get("size"):
        notes.append(f"dataset sizes differ ({data_a.get('size')} and {data_b.get('size')})")
    return notes


def compare_runs(
    a: Run, b: Run, *, max_drop: float = 0.02, metrics: Sequence[str] = ()
) -> Comparison:
    """Run B against baseline run A; ``metrics`` limits the comparison to those names."""
    result = Comparison(
        str(a.folder), str(b.folder), max_drop, warnings=_warnings(a.header, b.header)
    )
    found_a, found_b = _metrics(a.summary), _metrics(b.summary)
    wanted = set(metrics)
    for key in sorted(found_a.keys() & found_b.keys(), key=lambda k: (k[1] is not None, k)):
        name, kind = key
        if wanted and name not in wanted:
            continue
        result.metrics.append(compare_metric(name, kind, found_a[key], found_b[key], max_drop))
    missing = wanted - {name for name, _ in found_a.keys() & found_b.keys()}
    if missing:
        result.warnings.append(f"not in both runs: {', '.join(sorted(missing))}")
    losses_a = {sample.id: sample for sample in a.samples}
    losses_b = {sample.id: sample for sample in b.samples}
    for item_id in losses_a.keys() & losses_b.keys():
        old, new = losses_a[item_id], losses_b[item_id]
        if abs(new.loss - old.loss) <= _EPSILON:
            continue
        flip = Flip(item_id, new.kind, old.loss, new.loss)
        (result.worse if new.loss > old.loss else result.better).append(flip)
    for flips in (result.better, result.worse):
        flips.sort(key=lambda flip: (-abs(flip.loss_b - flip.loss_a), flip.id))
    result.only_a = len(losses_a.keys() - losses_b.keys())
    result.only_b = len(losses_b.keys() - losses_a.keys())
    return result
