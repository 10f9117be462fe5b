"""The CI gate: the offline backend on a small slice of every dataset, held to thresholds.

Thresholds come from baselines measured with the offline backend on these slices (on
2026-11-27; each baseline stands beside its threshold) less a margin for legitimate change.
The offline backend is deterministic, so a drop past a threshold is a real regression of the
parser, the validator, the offline extractor or the pipeline, not noise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.datasets import load_dataset
from evals.runner import run_eval
from summariser.settings import Settings

OFFLINE = Settings(backend="offline", model="offline-v1")

# dataset: (slice size, {metric: (threshold, baseline)}); a metric where lower is better is
# held to "at most" the threshold, every other to "at least".
GATES: dict[str, tuple[int, dict[str, tuple[float, float]]]] = {
    "validator-suite": (300, {"detection_rate": (0.99, 1.0), "false_alarm_rate": (0.01, 0.0)}),
    "paraphrase-suite": (80, {"detection_rate": (0.95, 1.0), "correct_rate": (0.95, 1.0)}),
    "ectsum": (6, {"figure_precision_pooled": (0.99, 1.0), "gold_recall_at_10": (0.55, 0.62)}),
    "phrasebank": (300, {"accuracy": (0.58, 0.617), "macro_f1": (0.50, 0.549)}),
    "fiqa": (300, {"pearson": (0.33, 0.376), "mse": (0.18, 0.160)}),
    "bbc": (25, {"figure_precision_pooled": (0.99, 1.0), "summaries_with_unsupported": (0.0, 0.0)}),
    "seed": (1, {"key_figures_found": (1.0, 1.0), "unsupported_figures": (0.0, 0.0)}),
}


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(GATES))
def test_offline_slice_meets_its_baseline(name: str, shared_dir: Path, tmp_path: Path) -> None:
    limit, thresholds = GATES[name]
    dataset = load_dataset(name, shared_dir, limit=limit)
    result = run_eval(dataset, tmp_path / name, OFFLINE)
    metrics = {m["name"]: m for m in result.summary["metrics"]}
    assert metrics["error_rate"]["value"] == 0.0
    for metric, (threshold, baseline) in thresholds.items():
        measured = metrics[metric]
        value = measured["value"]
        assert value is not None, metric
        if measured["higher_is_better"]:
            assert value >= threshold, f"{name} {metric} {value:.4f} < {threshold} (was {baseline})"
        else:
            assert value <= threshold, f"{name} {metric} {value:.4f} > {threshold} (was {baseline})"
    assert (tmp_path / name / "report.html").is_file()
