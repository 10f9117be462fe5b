"""The eval runner: a dataset's task over its items, into a run folder.

Stage: evals, the I/O edge of an eval. In: a :class:`~evals.core.Dataset`, the
:class:`~summariser.settings.Settings` the CLI built, an output folder (and, from Python, a
ready-made backend). Out: the folder's ``samples.jsonl`` (one line per item, appended as each
finishes), ``summary.json`` (header, metrics overall and per slice, totals) and ``report.html``.

Items run ``concurrency`` at a time (a pool of asyncio workers). An item whose task raises
becomes a sample with ``error`` set and ``loss`` 1, and the run goes on; a
:class:`~summariser.errors.QuotaExceededError` or :class:`~summariser.errors.AuthenticationError`
stops the run (every item would fail the same way) and is raised after what is done is saved;
so is a ``KeyboardInterrupt``. Running again into the same folder resumes: items already in
``samples.jsonl`` are skipped, and a folder holding another dataset, backend or model is
refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from evals.core import Dataset, Item, MetricValue, Sample, Task
from evals.store import (
    REPORT,
    RUN_FILES,
    SAMPLES,
    SUMMARY,
    SampleWriter,
    read_samples,
    read_summary,
    repair_samples,
    write_atomic,
)
from summariser import __version__
from summariser.backends.base import Backend
from summariser.errors import (
    AuthenticationError,
    ConfigurationError,
    InputError,
    QuotaExceededError,
    SummariserError,
)
from summariser.settings import Settings

# Errors after which every other item would fail the same way: stop rather than go on.
FATAL_ERRORS: tuple[type[BaseException], ...] = (QuotaExceededError, AuthenticationError)
# What must agree between a run folder and a run resumed into it.
_SAME_RUN = ("task", "backend", "model")


@dataclass(frozen=True, slots=True)
class RunResult:
    folder: Path
    summary: dict[str, Any]
    ran: int  # items run in this call (the others were already in samples.jsonl)
    skipped: int


# --- datasets and tasks (the other half of evals, imported when first needed) -----------------


def open_dataset(name: str, root: str | Path | None = None, *, limit: int | None = None) -> Dataset:
    """The dataset ``name`` (from ``root``, default the shared data folder), as an InputError
    when it cannot be loaded."""
    from evals import datasets

    try:
        return datasets.load_dataset(name, Path(root) if root else None, limit=limit)
    except InputError:
        raise
    except SummariserError as err:  # DatasetError, an unknown name, a bad limit
        raise InputError(str(err)) from err


def task_for(dataset: Dataset, backend: Backend | None = None) -> Task:
    """The task that evaluates ``dataset`` (by ``dataset.task``). A task that calls a model
    uses ``backend`` when one is given, and otherwise builds one from the settings."""
    from evals import tasks

    factory = cast(Callable[..., Task], tasks.TASKS[dataset.task])
    if backend is None or dataset.task == "validate":
        return factory()
    if "backend" not in inspect.signature(factory).parameters:
        raise ConfigurationError(f"the {dataset.task} task cannot be given a backend")
    return factory(backend=backend)


# --- the header: what a run is, so that two runs can be compared or resumed ------------------


def git_commit(folder: Path | None = None) -> str | None:
    """The commit checked out where this code lives, or None outside a git checkout."""
    where = folder or Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def _prompt_ref(task: str) -> dict[str, Any] | None:
    if task == "validate":
        return None
    from summariser.prompts import load_prompt

    return load_prompt("extract").ref.model_dump()


def make_header(
    dataset: Dataset,
    settings: Settings,
    backend: Backend | None,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    uses_model = dataset.task != "validate"
    return {
        "run_id": f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "package_version": __version__,
        "task": dataset.task,
        "backend": (backend.name if backend else settings.backend) if uses_model else None,
        "model": (backend.model if backend else _model_name(settings)) if uses_model else None,
        "prompt": _prompt_ref(dataset.task),
        "dataset": {
            "name": dataset.name,
            "version": dataset.version,
            "size": len(dataset.items),
            "root": dataset.root,
        },
        "parameters": {
            "chunk_tokens": settings.chunk_tokens,
            "chunk_overlap_tokens": settings.chunk_overlap_tokens,
            "max_output_tokens": settings.max_output_tokens,
            "max_reasks": settings.max_reasks,
            **parameters,
        },
    }


def _model_name(settings: Settings) -> str:
    # The offline backend ignores settings.model (an OpenAI default): name what really ran.
    if settings.backend == "openai":
        return settings.model
    from summariser.backends.registry import make_backend

    return make_backend(settings).model


def check_resumable(previous: dict[str, Any], header: dict[str, Any], folder: Path) -> None:
    """Refuse to resume into ``folder`` when its run is of another dataset, backend or model."""
    old = previous.get("header", {})
    clashes = [
        f"{key} {old.get(key)!r} (now {header.get(key)!r})"
        for key in _SAME_RUN
        if old.get(key) != header.get(key)
    ]
    old_data, new_data = old.get("dataset") or {}, header["dataset"]
    for key in ("name", "version"):
        if old_data.get(key) != new_data.get(key):
            clashes.append(f"dataset {key} {old_data.get(key)!r} (now {new_data.get(key)!r})")
    if clashes:
        raise InputError(
            f"holds a run with {', '.join(clashes)}: give another --out, or --fresh to start over",
            path=str(folder),
        )


def prepare_folder(folder: Path, *, fresh: bool) -> dict[str, Any] | None:
    """Make ``folder`` ready for a run; the summary of the run already there, if resuming."""
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file, not a run folder", path=str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create: {err.strerror or err}", path=str(folder)) from err
    if fresh:
        for name in RUN_FILES:
            (folder / name).unlink(missing_ok=True)
        return None
    previous = read_summary(folder)
    if previous is None and any(folder.iterdir()) and not (folder / SAMPLES).exists():
        raise InputError("is not empty and holds no run: give another --out", path=str(folder))
    return previous


# --- summarising samples -----------------------------------------------------------------------


def summarise_samples(
    task: Task, header: dict[str, Any], samples: list[Sample], wall_s: float
) -> dict[str, Any]:
    """The summary document: header, metrics overall and per slice, errors, totals."""
    overall: list[MetricValue] = []
    slices: dict[str, list[MetricValue]] = {}
    for metric in task.aggregate(samples):
        if metric.slice is None:
            overall.append(metric)
        else:  # a task may compute its own slices
            slices.setdefault(metric.slice, []).append(metric)
    kinds = sorted({sample.kind for sample in samples})
    if not slices and (len(kinds) > 1 or kinds[0:1] not in ([], [""])):
        for kind in kinds:
            part = [sample for sample in samples if sample.kind == kind]
            slices[kind] = [
                dataclasses.replace(metric, slice=kind) for metric in task.aggregate(part)
            ]
    tokens: dict[str, int] = {}
    for sample in samples:
        for key, value in sample.tokens.items():
            tokens[key] = tokens.get(key, 0) + int(value)
    costs = [sample.cost_usd for sample in samples if sample.cost_usd is not None]
    return {
        "header": header,
        "metrics": [metric.to_dict() for metric in overall],
        "slices": {kind: [m.to_dict() for m in values] for kind, values in slices.items()},
        "errors": sum(sample.error is not None for sample in samples),
        "totals": {
            "tokens": tokens,
            "cost_usd": round(sum(costs), 6) if costs else None,
            "wall_s": round(wall_s, 3),
            "items": len(samples),
        },
    }


def error_sample(item: Item, err: BaseException, latency_s: float) -> Sample:
    """The sample of an item whose task raised: no scores, the worst loss, the error named."""
    message = " ".join(str(err).split())
    return Sample(
        id=item.id,
        kind=item.kind,
        input_ref=item.input_ref,
        output={},
        expected=item.expected,
        scores={},
        loss=1.0,
        latency_s=round(latency_s, 4),
        error=f"{type(err).__name__}: {message}" if message else type(err).__name__,
    )


# --- running -----------------------------------------------------------------------------------


@contextmanager
def _progress(total: int, done: int, show: bool) -> Iterator[Callable[[], None]]:
    if not show:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        job = bar.add_task("items", total=total, completed=done)
        yield lambda: bar.advance(job)


async def _run_items(
    task: Task,
    items: list[Item],
    settings: Settings,
    writer: SampleWriter,
    concurrency: int,
    advance: Callable[[], None],
) -> None:
    queue = iter(items)

    async def worker() -> None:
        for item in queue:  # one shared iterator: each item goes to exactly one worker
            started = time.perf_counter()
            try:
                sample = await task.run(item, settings)
            except FATAL_ERRORS:
                raise
            except KeyboardInterrupt as err:  # raised in a coroutine it would upset the loop
                raise _Interrupted from err
            except Exception as err:  # one broken item must not lose the others
                sample = error_sample(item, err, time.perf_counter() - started)
            if not sample.latency_s:
                sample.latency_s = round(time.perf_counter() - started, 4)
            writer.write(sample)
            advance()

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, min(concurrency, len(items)))):
            group.create_task(worker())


def run_eval(
    dataset: Dataset,
    out: str | Path,
    settings: Settings | None = None,
    *,
    task: Task | None = None,
    backend: Backend | None = None,
    concurrency: int = 4,
    fresh: bool = False,
    progress: bool = False,
    parameters: dict[str, Any] | None = None,
) -> RunResult:
    """Run ``dataset``'s task over its items into folder ``out`` and write the summary and
    report; resume when ``out`` already holds part of this run (unless ``fresh``).

    ``task`` defaults to :func:`task_for` the dataset (given ``backend``, if any). Raises
    InputError for a folder that cannot be used, the fatal backend error that stopped the
    run, or KeyboardInterrupt; in the last two cases what was done is saved first.
    """
    from evals.report import render_report

    settings = settings or Settings()
    folder = Path(out)
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, not {concurrency}")
    task = task or task_for(dataset, backend)
    previous = prepare_folder(folder, fresh=fresh)
    header = make_header(
        dataset,
        settings,
        backend,
        {"limit": None, "concurrency": concurrency, **(parameters or {})},
    )
    wall_before = 0.0
    if previous is not None:
        check_resumable(previous, header, folder)
        header = {**previous["header"], "resumed": datetime.now(UTC).isoformat(timespec="seconds")}
        wall_before = float(previous.get("totals", {}).get("wall_s") or 0.0)
    samples_path = folder / SAMPLES
    repair_samples(samples_path)
    done_ids = {sample.id for sample in read_samples(samples_path)}
    todo = [item for item in dataset.items if item.id not in done_ids]
    started = time.perf_counter()

    def finish() -> dict[str, Any]:
        samples = read_samples(samples_path)
        summary = summarise_samples(
            task, header, samples, wall_before + time.perf_counter() - started
        )
        write_atomic(folder / SUMMARY, _dumps(summary))
        write_atomic(folder / REPORT, render_report(summary, samples))
        return summary

    write_atomic(folder / SUMMARY, _dumps(summarise_samples(task, header, [], wall_before)))
    writer = SampleWriter(samples_path)
    try:
        with _progress(len(dataset.items), len(dataset.items) - len(todo), progress) as advance:
            asyncio.run(_run_items(task, todo, settings, writer, concurrency, advance))
    except BaseException as err:
        writer.close()
        fatal = _fatal(err)
        finish()
        if fatal is not None:
            raise fatal from None
        raise
    writer.close()
    return RunResult(folder, finish(), ran=len(todo), skipped=len(dataset.items) - len(todo))


class _Interrupted(Exception):
    """A KeyboardInterrupt from inside a task, carried out of the TaskGroup as an Exception."""


def _fatal(err: BaseException) -> BaseException | None:
    """The fatal backend error inside ``err`` (TaskGroup wraps what its workers raise)."""
    if isinstance(err, BaseExceptionGroup):
        for inner in err.exceptions:
            found = _fatal(inner)
            if found is not None:
                return found
        return None
    if isinstance(err, _Interrupted):
        return KeyboardInterrupt()
    return err if isinstance(err, (*FATAL_ERRORS, KeyboardInterrupt)) else None


def _dumps(document: dict[str, Any]) -> str:
    import json

    return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
