"""The metric functions of evals.metrics, on examples worked out by hand."""

from __future__ import annotations

import math

import pytest

from evals.core import Sample
from evals.metrics import (
    accuracy,
    bootstrap_interval,
    confusion_matrix,
    macro_f1,
    mean_metric,
    mse,
    paired,
    pearson,
    quantile,
    ranks,
    rate,
    recall_at_k,
    spearman,
    statistic,
    wilson_interval,
)


def sample(**scores: float | None) -> Sample:
    return Sample(id="x", kind="", input_ref="", output={}, expected={}, scores=dict(scores))


# --- Wilson ----------------------------------------------------------------------------------


def test_wilson_8_of_10() -> None:
    # p = 0.8, z^2 = 3.8416, n = 10: denominator 1 + 3.8416/10 = 1.38416;
    # centre (0.8 + 3.8416/20) / 1.38416 = 0.99208 / 1.38416 = 0.716738;
    # margin 1.96 * sqrt(0.8*0.2/10 + 3.8416/400) / 1.38416 = 1.96 * 0.160012 / 1.38416 = 0.226581
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490157, abs=1e-5)
    assert high == pytest.approx(0.943319, abs=1e-5)


def test_wilson_extremes_stay_in_range() -> None:
    # 0 of 10: centre = margin = (3.8416/20)/1.38416, so low = 0 and high = 2 * 0.138770
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.277540, abs=1e-5)
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(1 - 0.277540, abs=1e-5)


def test_wilson_no_trials_is_the_whole_range() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_rejects_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(successes, n)


# --- bootstrap -------------------------------------------------------------------------------


def test_quantile_interpolates() -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.1) == pytest.approx(1.4)  # position 0.4
    assert quantile([7.0], 0.975) == 7.0


def test_bootstrap_of_a_constant_is_that_constant() -> None:
    assert bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    values = [float(v) for v in range(20)]
    first = bootstrap_interval(values, seed=3)
    assert first == bootstrap_interval(values, seed=3)
    assert first is not None
    low, high = first
    assert low < 9.5 < high
    assert low >= 0.0 and high <= 19.0


def test_bootstrap_of_nothing_or_of_an_undefined_stat_is_none() -> None:
    assert bootstrap_interval([]) is None
    assert bootstrap_interval([1.0, 2.0], stat=lambda _: None) is None


# --- over samples ----------------------------------------------------------------------------


def test_rate_ignores_none_and_uses_wilson() -> None:
    samples = [sample(hit=1.0)] * 8 + [sample(hit=0.0)] * 2 + [sample(hit=None), sample()]
    metric = rate(samples, "hit", name="hits", slice="a", higher_is_better=False)
    assert (metric.name, metric.value, metric.count, metric.slice) == ("hits", 0.8, 10, "a")
    assert metric.low == pytest.approx(0.490157, abs=1e-5)
    assert metric.method == "wilson" and metric.higher_is_better is False


def test_rate_with_no_values_has_no_value() -> None:
    metric = rate([sample(hit=None)], "hit")
    assert (metric.value, metric.count, metric.low, metric.high) == (None, 0, None, None)


def test_rate_refuses_scores_that_are_not_zero_or_one() -> None:
    with pytest.raises(ValueError):
        rate([sample(hit=0.5)], "hit")


def test_mean_metric() -> None:
    metric = mean_metric([sample(e=1.0), sample(e=3.0), sample(e=None)], "e")
    assert (metric.value, metric.count, metric.method) == (2.0, 2, "bootstrap")
    assert metric.low is not None and metric.high is not None
    assert 1.0 <= metric.low <= 2.0 <= metric.high <= 3.0


# --- labels ----------------------------------------------------------------------------------


def test_accuracy() -> None:
    assert accuracy(["a", "b", "c", "a"], ["a", "b", "a", "b"]) == 0.5
    assert accuracy([], []) is None
    with pytest.raises(ValueError):
        accuracy(["a"], [])


GOLD = ["pos", "pos", "pos", "neg", "neg", "neu", "neu", "neu", "neu"]
PRED = ["pos", "pos", "neu", "neg", "pos", "neu", "neu", "neg", "neu"]


def test_macro_f1_three_labels() -> None:
    # pos: tp 2, fp 1 (a neg), fn 1 (a neu)  -> F1 = 4 / (4 + 1 + 1) = 2/3
    # neg: tp 1, fp 1 (a neu), fn 1 (a pos)  -> F1 = 2 / (2 + 1 + 1) = 1/2
    # neu: tp 3, fp 1 (a pos), fn 1 (a neg)  -> F1 = 6 / (6 + 1 + 1) = 3/4
    # macro = (2/3 + 1/2 + 3/4) / 3 = 23/36
    assert macro_f1(GOLD, PRED, ["pos", "neg", "neu"]) == pytest.approx(23 / 36)


def test_macro_f1_leaves_out_absent_labels_and_counts_outside_predictions_as_misses() -> None:
    # "neu" occurs nowhere: left out. pos: tp 1, fn 1 ("mixed") -> 2/3; neg: tp 1 -> 1
    assert macro_f1(["pos", "pos", "neg"], ["pos", "mixed", "neg"], ["pos", "neg", "neu"]) == (
        pytest.approx((2 / 3 + 1) / 2)
    )
    assert macro_f1([], [], ["pos"]) is None


def test_confusion_matrix_rows_are_gold() -> None:
    assert confusion_matrix(GOLD, PRED, ["pos", "neg", "neu"]) == [
        [2, 0, 1],
        [1, 1, 0],
        [0, 1, 3],
    ]
    assert confusion_matrix(["pos"], ["mixed"], ["pos", "neg"]) == [[0, 0], [0, 0]]


# --- series ----------------------------------------------------------------------------------


def test_pearson_known_set() -> None:
    # x = 1..5, y = 2, 4, 5, 4, 5: means 3 and 4; sxy = 6, sxx = 10, syy = 6
    # r = 6 / sqrt(60) = 0.774597
    assert pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]) == pytest.approx(0.774597, abs=1e-6)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_pearson_undefined_cases() -> None:
    assert pearson([1, 2, 3], [5, 5, 5]) is None  # constant series
    assert pearson([1], [2]) is None
    assert pearson([], []) is None


def test_ranks_average_ties() -> None:
    assert ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]


def test_spearman() -> None:
    # monotone but not linear: rank correlation 1
    assert spearman([1, 2, 3, 4], [1, 8, 27, 64]) == pytest.approx(1.0)
    # ranks x = 1, 2, 3; y = [1, 2.5, 2.5] -> pearson(1,2,3 ; 1,2.5,2.5):
    # sxy = (-1)(-1) + 0 + (1)(0.5) = 1.5; sxx = 2; syy = 1 + 0.25 + 0.25 = 1.5 -> 1.5/sqrt(3)
    assert spearman([1, 2, 3], [0, 7, 7]) == pytest.approx(1.5 / math.sqrt(3))
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_mse() -> None:
    # errors 1, 0, -2 -> (1 + 0 + 4) / 3
    assert mse([1.0, 2.0, 3.0], [0.0, 2.0, 5.0]) == pytest.approx(5 / 3)
    assert mse([], []) is None


def test_paired_statistic_and_its_interval() -> None:
    pairs = [(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0), (5.0, 5.0)]
    metric = statistic("pearson", pairs, paired(pearson))
    assert metric.value == pytest.approx(0.774597, abs=1e-6)
    assert metric.count == 5
    assert metric.low is not None and metric.high is not None and metric.low <= metric.high


def test_recall_at_k() -> None:
    def same(a: int, b: int) -> bool:
        return a == b

    assert recall_at_k([1, 2, 3, 4], [3, 9, 1, 2], 2, same) == 0.25
    assert recall_at_k([1, 2, 3, 4], [3, 9, 1, 2], 3, same) == 0.5
    assert recall_at_k([1, 2, 3, 4], [3, 9, 1, 2], None, same) == 0.75
    assert recall_at_k([], [1], 1, same) is None
