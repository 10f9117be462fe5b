"""The eval runner over a tiny fake dataset and task: files, resume, torn lines, errors, aborts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from evals import runner
from evals.core import Dataset, Item, MetricValue, Sample
from evals.metrics import wilson_interval
from evals.store import SAMPLES, SUMMARY, read_samples, repair_samples
from summariser.errors import BackendError, InputError, QuotaExceededError
from summariser.settings import Settings


def make_dataset(n: int = 8, name: str = "tiny", version: str = "v1") -> Dataset:
    items = tuple(
        Item(
            id=f"i{i}",
            kind="even" if i % 2 == 0 else "odd",
            input_ref=f"tiny#{i}",
            payload={"x": i},
            expected={"ok": True},
        )
        for i in range(n)
    )
    return Dataset(name=name, version=version, task="validate", items=items, root="/data")


@dataclass
class FakeTask:
    """Scores x % 3 != 0 as correct; raises what ``raises`` holds for an item id."""

    name: str = "validate"
    raises: dict[str, BaseException] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

    async def run(self, item: Item, settings: Settings) -> Sample:
        self.ran.append(item.id)
        if item.id in self.raises:
            raise self.raises[item.id]
        correct = float(item.payload["x"] % 3 != 0)
        text = f"Revenue was $<script>{item.payload['x']}</script> million"
        return Sample(
            id=item.id,
            kind=item.kind,
            input_ref=item.input_ref,
            output={"ok": bool(correct)},
            expected=item.expected,
            scores={"correct": correct},
            loss=1.0 - correct,
            tokens={"prompt": 10 + item.payload["x"], "completion": 5},
            cost_usd=0.001,
            highlight={
                "text": text,
                "spans": [{"start": 12, "end": 30, "status": "unsupported", "label": "not_found"}],
            },
        )

    def aggregate(self, samples: list[Sample]) -> list[MetricValue]:
        scored = [s.scores["correct"] for s in samples if s.scores.get("correct") is not None]
        hits = sum(scored or [0.0])
        low, high = wilson_interval(hits, len(scored))
        value = hits / len(scored) if scored else None
        return [
            MetricValue("accuracy", value, len(scored), low, high, "wilson"),
            MetricValue(
                "errors",
                sum(s.error is not None for s in samples) / max(len(samples), 1),
                len(samples),
                higher_is_better=False,
            ),
        ]


def run(tmp_path: Path, task: FakeTask, dataset: Dataset | None = None, **kw: object) -> dict:
    result = runner.run_eval(dataset or make_dataset(), tmp_path / "run", task=task, **kw)  # type: ignore[arg-type]
    return result.summary


def lines(tmp_path: Path) -> list[dict]:
    text = (tmp_path / "run" / SAMPLES).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_writes_samples_summary_and_report(tmp_path: Path) -> None:
    summary = run(tmp_path, FakeTask(), concurrency=3, parameters={"limit": 8})
    records = lines(tmp_path)
    assert sorted(r["id"] for r in records) == [f"i{i}" for i in range(8)]
    assert all(Sample.from_dict(r).latency_s >= 0 for r in records)
    on_disk = json.loads((tmp_path / "run" / SUMMARY).read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(summary))
    header = on_disk["header"]
    assert header["dataset"] == {"name": "tiny", "version": "v1", "size": 8, "root": "/data"}
    assert header["parameters"]["concurrency"] == 3 and header["parameters"]["limit"] == 8
    assert header["created"].endswith("+00:00") and header["package_version"]
    assert header["prompt"] is None and header["backend"] is None  # validate calls no model
    assert "git_commit" in header and header["run_id"]
    accuracy = on_disk["metrics"][0]
    assert accuracy["name"] == "accuracy" and accuracy["value"] == pytest.approx(5 / 8)
    assert set(on_disk["slices"]) == {"even", "odd"}
    assert on_disk["slices"]["odd"][0]["slice"] == "odd"
    assert on_disk["totals"]["items"] == 8 and on_disk["errors"] == 0
    assert on_disk["totals"]["tokens"] == {"prompt": 80 + 28, "completion": 40}
    assert on_disk["totals"]["cost_usd"] == pytest.approx(0.008)
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page


def test_item_errors_become_samples_and_the_run_goes_on(tmp_path: Path) -> None:
    task = FakeTask(raises={"i2": BackendError("refused"), "i5": ZeroDivisionError("bug")})
    summary = run(tmp_path, task)
    by_id = {r["id"]: r for r in lines(tmp_path)}
    assert len(by_id) == 8 and summary["errors"] == 2
    assert by_id["i2"]["error"] == "BackendError: refused" and by_id["i2"]["loss"] == 1.0
    assert by_id["i5"]["error"].startswith("ZeroDivisionError") and by_id["i5"]["scores"] == {}


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path) -> None:
    first = FakeTask(raises={"i3": KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, first, concurrency=1)
    done = [r["id"] for r in lines(tmp_path)]
    assert done == ["i0", "i1", "i2"]
    partial = json.loads((tmp_path / "run" / SUMMARY).read_text(encoding="utf-8"))
    assert partial["totals"]["items"] == 3  # what was done is summarised too
    second = FakeTask()
    summary = run(tmp_path, second, concurrency=2)
    assert sorted(second.ran) == [f"i{i}" for i in range(3, 8)]
    ids = [r["id"] for r in lines(tmp_path)]
    assert sorted(ids) == [f"i{i}" for i in range(8)] and len(ids) == len(set(ids))
    assert summary["totals"]["items"] == 8
    assert summary["header"]["run_id"] == partial["header"]["run_id"]


def test_a_torn_last_line_is_cut_off_and_its_item_run_again(tmp_path: Path) -> None:
    run(tmp_path, FakeTask(), make_dataset(4))
    path = tmp_path / "run" / SAMPLES
    kept = path.read_text(encoding="utf-8").splitlines()[:2]
    path.write_text("\n".join(kept) + '\n{"id": "i2", "kind": "ev', encoding="utf-8")
    assert [s.id for s in read_samples(path)] == ["i0", "i1"]  # readable as it is
    task = FakeTask()
    run(tmp_path, task, make_dataset(4))
    assert sorted(task.ran) == ["i2", "i3"]
    assert sorted(r["id"] for r in lines(tmp_path)) == ["i0", "i1", "i2", "i3"]


def test_repair_adds_a_missing_final_newline(tmp_path: Path) -> None:
    path = tmp_path / SAMPLES
    record = json.dumps(Sample("a", "", "", {}, {}, {}).to_dict())
    path.write_text(record, encoding="utf-8")
    repair_samples(path)
    assert path.read_text(encoding="utf-8") == record + "\n"


def test_a_broken_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / SAMPLES
    record = json.dumps(Sample("a", "", "", {}, {}, {}).to_dict())
    path.write_text(f"{record}\nnot json\n{record}\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        read_samples(path)


def test_quota_error_aborts_and_keeps_what_is_done(tmp_path: Path) -> None:
    task = FakeTask(raises={"i2": QuotaExceededError("insufficient_quota", provider="openai")})
    with pytest.raises(QuotaExceededError):
        run(tmp_path, task, concurrency=1)
    assert [r["id"] for r in lines(tmp_path)] == ["i0", "i1"]
    assert "i3" not in task.ran
    assert (tmp_path / "run" / "report.html").exists()


def test_resume_refuses_another_dataset_and_fresh_starts_over(tmp_path: Path) -> None:
    run(tmp_path, FakeTask(), make_dataset(4))
    with pytest.raises(InputError, match="dataset version 'v1'"):
        run(tmp_path, FakeTask(), make_dataset(4, version="v2"))
    task = FakeTask()
    run(tmp_path, task, make_dataset(4, version="v2"), fresh=True)
    assert len(task.ran) == 4 and len(lines(tmp_path)) == 4


@pytest.mark.parametrize("setup", ["file", "foreign"])
def test_unusable_out_folders_are_refused(tmp_path: Path, setup: str) -> None:
    out = tmp_path / "run"
    if setup == "file":
        out.write_text("x", encoding="utf-8")
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError):
        run(tmp_path, FakeTask())


def test_ctrl_c_from_the_signal_stops_the_run_and_keeps_what_is_done(tmp_path: Path) -> None:
    import asyncio
    import signal

    class Interrupting(FakeTask):
        async def run(self, item: Item, settings: Settings) -> Sample:
            if item.id == "i3":
                signal.raise_signal(signal.SIGINT)  # what Ctrl-C sends
                await asyncio.sleep(5)
            return await super().run(item, settings)

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, Interrupting(), concurrency=1)
    assert [r["id"] for r in lines(tmp_path)] == ["i0", "i1", "i2"]
