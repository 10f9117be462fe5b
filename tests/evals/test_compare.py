"""Comparing two runs: deltas, noise, flipped items, and the regression gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evals.compare import compare_metric, compare_runs
from evals.core import Sample
from evals.store import Run


def metric(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    better: bool = True,
    kind: str | None = None,
    count: int = 100,
) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "count": count,
        "low": low,
        "high": high,
        "method": "wilson",
        "higher_is_better": better,
        "slice": kind,
    }


def sample(item_id: str, loss: float, kind: str = "k") -> Sample:
    return Sample(item_id, kind, "", {}, {}, {"correct": 1 - loss}, loss=loss)


def make_run(
    name: str,
    metrics: list[dict[str, Any]],
    samples: list[Sample] = (),  # type: ignore[assignment]
    slices: dict[str, list[dict[str, Any]]] | None = None,
    version: str = "v1",
) -> Run:
    header = {"dataset": {"name": "tiny", "version": version, "size": 10}}
    summary = {"header": header, "metrics": metrics, "slices": slices or {}}
    return Run(Path(name), summary, list(samples))


def test_deltas_and_noise() -> None:
    a = make_run("a", [metric("recall", 0.90, 0.85, 0.94), metric("f1", 0.5)])
    b = make_run("b", [metric("recall", 0.70, 0.62, 0.77), metric("f1", 0.52)])
    result = compare_runs(a, b, max_drop=0.02)
    by_name = {m.name: m for m in result.metrics}
    assert by_name["recall"].delta == pytest.approx(-0.20)
    assert by_name["recall"].beyond_noise is True and by_name["recall"].regression
    assert by_name["f1"].beyond_noise is None and not by_name["f1"].regression
    assert [m.name for m in result.regressions] == ["recall"]


@pytest.mark.parametrize(
    ("better", "a", "b", "regressed"),
    [
        (True, 0.90, 0.85, True),  # a drop of a higher-is-better metric
        (True, 0.90, 0.89, False),  # within --max-drop
        (True, 0.85, 0.95, False),  # an improvement
        (False, 0.05, 0.10, True),  # a rise of a lower-is-better metric (false alarms)
        (False, 0.05, 0.06, False),
        (False, 0.10, 0.02, False),
    ],
    ids=["hib-drop", "hib-within", "hib-gain", "lib-rise", "lib-within", "lib-gain"],
)
def test_regression_follows_the_metric_direction(
    better: bool, a: float, b: float, regressed: bool
) -> None:
    delta = compare_metric(
        "m", None, metric("m", a, better=better), metric("m", b, better=better), max_drop=0.02
    )
    assert delta.regression is regressed


def test_a_slice_gates_only_when_beyond_noise() -> None:
    noisy = compare_metric(
        "m",
        "small",
        metric("m", 0.8, 0.4, 0.95, count=5),
        metric("m", 0.6, 0.2, 0.9, count=5),
        max_drop=0.02,
    )
    clear = compare_metric(
        "m", "big", metric("m", 0.9, 0.88, 0.92), metric("m", 0.6, 0.57, 0.63), max_drop=0.02
    )
    assert not noisy.regression and clear.regression


def test_flips_and_warnings() -> None:
    a = make_run(
        "a",
        [metric("m", 0.5)],
        [sample("x", 0), sample("y", 1), sample("z", 0), sample("only-a", 0)],
    )
    b = make_run(
        "b",
        [metric("m", 0.5)],
        [sample("x", 1), sample("y", 0), sample("z", 0), sample("only-b", 1)],
        version="v2",
    )
    result = compare_runs(a, b)
    assert [f.id for f in result.worse] == ["x"] and [f.id for f in result.better] == ["y"]
    assert result.only_a == 1 and result.only_b == 1
    assert any("versions differ" in w for w in result.warnings)
    data = result.to_dict()
    assert data["flips"]["worse_items"][0] == {"id": "x", "kind": "k", "loss_a": 0, "loss_b": 1}


def test_metric_filter_and_slices() -> None:
    slices_a = {"s1": [metric("m", 0.9, 0.85, 0.95, kind="s1")]}
    slices_b = {"s1": [metric("m", 0.8, 0.75, 0.84, kind="s1")]}
    a = make_run("a", [metric("m", 0.9), metric("n", 0.9)], slices=slices_a)
    b = make_run("b", [metric("m", 0.9), metric("n", 0.1)], slices=slices_b)
    result = compare_runs(a, b, metrics=["m", "gone"])
    assert [(m.name, m.slice) for m in result.metrics] == [("m", None), ("m", "s1")]
    assert [m.slice for m in result.regressions] == ["s1"]
    assert any("gone" in w for w in result.warnings)
