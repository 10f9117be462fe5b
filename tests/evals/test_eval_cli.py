"""``summariser eval run`` and ``summariser eval compare`` through typer's CliRunner."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from evals import runner
from evals.core import Dataset, Item, MetricValue, Sample
from evals.metrics import wilson_interval
from summariser.backends.base import CompletionRequest
from summariser.backends.fake import FakeBackend
from summariser.errors import InputError, QuotaExceededError
from summariser.eval_command import eval_app
from summariser.offline import extract, reduce_notes
from summariser.settings import Settings


@dataclass
class ParityTask:
    """Correct when x is even, or when ``wrong`` says otherwise; raises ``raises[id]``."""

    name: str = "validate"
    wrong: set[str] = field(default_factory=set)
    raises: dict[str, BaseException] = field(default_factory=dict)

    async def run(self, item: Item, settings: Settings) -> Sample:
        if item.id in self.raises:
            raise self.raises[item.id]
        correct = 0.0 if item.id in self.wrong else 1.0
        return Sample(
            item.id,
            item.kind,
            item.input_ref,
            {},
            item.expected,
            {"correct": correct},
            loss=1 - correct,
        )

    def aggregate(self, samples: list[Sample]) -> list[MetricValue]:
        hits = sum(s.scores.get("correct") or 0.0 for s in samples)
        low, high = wilson_interval(hits, len(samples))
        value = hits / len(samples) if samples else None
        return [MetricValue("accuracy", value, len(samples), low, high, "wilson")]


DATASET = Dataset(
    "tiny",
    "v1",
    "validate",
    tuple(Item(f"i{i}", "a" if i < 10 else "b", f"#{i}", {}, {}) for i in range(20)),
    root="/d",
)


@pytest.fixture
def task(monkeypatch: pytest.MonkeyPatch) -> ParityTask:
    made = ParityTask()

    def fake_open(name: str, root: object = None, *, limit: int | None = None) -> Dataset:
        if name != "tiny":
            raise InputError(f"unknown dataset {name!r}")
        return DATASET

    monkeypatch.setattr(runner, "open_dataset", fake_open)
    monkeypatch.setattr(runner, "task_for", lambda dataset, backend=None: made)
    return made


def invoke(*args: str) -> Result:
    return CliRunner().invoke(eval_app, list(args), catch_exceptions=False)


def test_run_writes_the_folder_and_prints_metrics(task: ParityTask, tmp_path: Path) -> None:
    result = invoke("run", "--dataset", "tiny", "--out", str(tmp_path / "r"), "--limit", "20")
    assert result.exit_code == 0, result.stderr
    assert "accuracy" in result.stdout and "report:" in result.stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["header"]["parameters"]["limit"] == 20
    assert summary["totals"]["items"] == 20
    again = invoke("run", "--dataset", "tiny", "--out", str(tmp_path / "r"))
    assert again.exit_code == 0 and "20 already done" in again.stderr


def test_bad_input_exits_2(task: ParityTask, tmp_path: Path) -> None:
    unknown = invoke("run", "--dataset", "nope", "--out", str(tmp_path / "r"))
    assert unknown.exit_code == 2 and "unknown dataset 'nope'" in unknown.stderr
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert invoke("run", "--dataset", "tiny", "--out", str(tmp_path / "file")).exit_code == 2
    assert (
        invoke(
            "run", "--dataset", "tiny", "--out", str(tmp_path / "r"), "--concurrency", "0"
        ).exit_code
        == 2
    )


def test_quota_error_exits_4_and_keeps_the_samples(task: ParityTask, tmp_path: Path) -> None:
    task.raises["i5"] = QuotaExceededError("insufficient_quota", provider="openai")
    result = invoke("run", "--dataset", "tiny", "--out", str(tmp_path / "r"), "--concurrency", "1")
    assert result.exit_code == 4 and "insufficient_quota" in result.stderr
    assert "rerun to resume" in result.stderr
    lines = (tmp_path / "r" / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5


def test_interrupt_exits_130_with_a_resume_hint(task: ParityTask, tmp_path: Path) -> None:
    task.raises["i3"] = KeyboardInterrupt()
    result = invoke("run", "--dataset", "tiny", "--out", str(tmp_path / "r"), "--concurrency", "1")
    assert result.exit_code == 130 and "run the same command again" in result.stderr


def test_compare_gates_on_max_drop(task: ParityTask, tmp_path: Path) -> None:
    assert invoke("run", "--dataset", "tiny", "--out", str(tmp_path / "a")).exit_code == 0
    task.wrong.update({"i1", "i2", "i3"})
    assert invoke("run", "--dataset", "tiny", "--out", str(tmp_path / "b")).exit_code == 0
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    worse = invoke("compare", a, b)
    assert worse.exit_code == 5, worse.stdout
    assert "REGRESSION" in worse.stdout and "3 items worse: i1" in worse.stdout
    assert invoke("compare", a, b, "--max-drop", "0.2").exit_code == 0
    assert invoke("compare", b, a).exit_code == 0  # the other way round is an improvement
    data = json.loads(invoke("compare", a, b, "--json").stdout)
    overall = next(m for m in data["metrics"] if m["slice"] is None)
    assert overall["delta"] == pytest.approx(-0.15) and data["regressed"] is True
    assert sorted(f["id"] for f in data["flips"]["worse_items"]) == ["i1", "i2", "i3"]


def test_compare_of_unreadable_runs_exits_2(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{oops", encoding="utf-8")
    result = invoke("compare", str(tmp_path / "missing"), str(tmp_path / "broken"))
    assert result.exit_code == 2 and "no such run folder" in result.stderr
    result = invoke("compare", str(tmp_path / "broken"), str(tmp_path / "broken"))
    assert result.exit_code == 2 and "not valid JSON" in result.stderr


# --- end to end on the shared data (marked data: skipped without ../shared) -------------------


@pytest.mark.data
def test_validator_suite_and_seed_end_to_end(shared_dir: Path, tmp_path: Path) -> None:
    for name, extra in (("validator-suite", ["--limit", "60"]), ("seed", [])):
        out = tmp_path / name
        result = invoke(
            "run",
            "--dataset",
            name,
            "--data",
            str(shared_dir),
            "--out",
            str(out),
            "--backend",
            "offline",
            "-q",
            *extra,
        )
        assert result.exit_code == 0, result.stderr
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["header"]["dataset"]["name"] == name and summary["errors"] == 0
        assert summary["totals"]["items"] == (60 if extra else 1)
        assert "<svg" in (out / "report.html").read_text(encoding="utf-8")
        assert invoke("compare", str(out), str(out)).exit_code == 0


def hallucinating_backend() -> FakeBackend:
    """The offline backend's answers, with one metric's figure changed in about a third of the
    chunks (chosen by a hash of the chunk, so the same chunk is always changed)."""

    def answer(request: CompletionRequest) -> str:
        if request.purpose == "reduce":
            return reduce_notes(request.data).model_dump_json()
        extraction = json.loads(extract(request.data).model_dump_json())
        if zlib.crc32(request.data.encode()) % 3 == 0:
            for metric in extraction["metrics"]:
                value = metric["value"]
                digits = [i for i, c in enumerate(value) if c in "123456789"]
                if digits:
                    i = digits[0]
                    metric["value"] = f"{value[:i]}{int(value[i]) % 9 + 1}{value[i + 1 :]}"
                    break
        return json.dumps(extraction)

    backend = FakeBackend(model="hallucinating-offline")
    backend.enqueue(*([answer] * 10_000))
    return backend


@pytest.mark.data
def test_the_regression_gate_catches_hallucinated_figures(shared_dir: Path, tmp_path: Path) -> None:
    """A run whose backend changes a figure in a third of the chunks fails compare (exit 5)
    against an offline run of the same items."""
    dataset = runner.open_dataset("bbc", shared_dir, limit=30)
    offline = runner.run_eval(dataset, tmp_path / "offline", Settings(backend="offline"))
    assert offline.summary["errors"] == 0
    bad = runner.run_eval(dataset, tmp_path / "bad", backend=hallucinating_backend())
    assert bad.summary["header"]["model"] == "hallucinating-offline"
    result = invoke("compare", str(tmp_path / "offline"), str(tmp_path / "bad"))
    assert result.exit_code == 5, result.stdout
    assert "REGRESSION" in result.stdout
