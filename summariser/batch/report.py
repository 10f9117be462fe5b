"""What a batch job shows: a progress bar while it runs and a report when it ends.

Stage: edge (stderr and an optional JSON file). In: the runner's
:class:`~summariser.batch.runner.RunStats` (updated as records are written) and its
:class:`~summariser.batch.runner.BatchResult`. Out: a rich progress bar on stderr (done,
failed, rate, ETA when the input size is known, tokens and cost so far), then a table of
outcomes, reasons, figures, tokens, estimated cost, cache hits, wall time and articles per
second; :func:`build_report` gives the same as a JSON-ready dict for ``--json-report``.

Costs are estimates from list prices (:mod:`summariser.backends.pricing`), for the tokens of
this run only: cached summaries cost nothing, and an article that failed after some calls
spent tokens the pipeline does not report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from summariser.backends.pricing import PRICES_PER_MTOK, estimate_cost
from summariser.batch.runner import BatchResult, RunStats
from summariser.errors import InputError

__all__ = ["BatchProgress", "build_report", "load_prices", "print_report", "write_json_report"]

Prices = Mapping[str, tuple[float, float, float]]


class BatchProgress:
    """A progress bar on stderr, or nothing when ``enabled`` is false (``--quiet``, or stderr
    is not a terminal)."""

    def __init__(self, *, enabled: bool, model: str, prices: Prices = PRICES_PER_MTOK) -> None:
        self.model, self.prices = model, prices
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TextColumn("{task.fields[rate]}/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[tokens]} tok {task.fields[cost]}"),
                console=Console(stderr=True),
                transient=False,
            )

    def __enter__(self) -> BatchProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, stats: RunStats) -> None:
        """Show the bar, counting the items done by earlier runs as done."""
        if self._progress is None:
            return
        self._task = self._progress.add_task(
            "batch", total=stats.total, completed=stats.already_done, **self._fields(stats)
        )

    def update(self, stats: RunStats) -> None:
        if self._progress is None or self._task is None:
            return
        self._progress.update(
            self._task, completed=stats.already_done + stats.written, **self._fields(stats)
        )

    def _fields(self, stats: RunStats) -> dict[str, Any]:
        usage = stats.usage
        cost = estimate_cost(self.model, usage, self.prices)
        rate = stats.written / stats.elapsed_s if stats.elapsed_s > 0 else 0.0
        return {
            "failed": stats.errors,
            "rate": f"{rate:.1f}",
            "tokens": f"{usage.prompt_tokens + usage.completion_tokens:,}",
            "cost": "" if cost is None else f"${cost:.4f}",
        }


def build_report(
    result: BatchResult, *, model: str, prices: Prices = PRICES_PER_MTOK
) -> dict[str, Any]:
    """This run's figures and the whole job's totals, as a JSON-ready dict."""
    stats, totals = result.stats, result.totals
    usage = stats.usage
    cost = estimate_cost(model, usage, prices)
    return {
        "run": {
            "written": stats.written,
            "ok": stats.ok,
            "errors": stats.errors,
            "reasons": dict(sorted(stats.reasons.items())),
            "cache_hits": stats.cached,
            "already_done": stats.already_done,
            "figures_supported": stats.figures_supported,
            "figures_unsupported": stats.figures_unsupported,
            "summaries_with_unsupported": stats.with_unsupported,
            "tokens": {
                "prompt": usage.prompt_tokens,
                "completion": usage.completion_tokens,
                "cached": usage.cached_tokens,
            },
            "estimated_cost_usd": None if cost is None else round(cost, 6),
            "model": model,
            "wall_time_s": round(stats.elapsed_s, 3),
            "articles_per_s": round(stats.written / stats.elapsed_s, 2)
            if stats.elapsed_s > 0
            else None,
        },
        "job": {
            "items": stats.total,
            "done": totals.done,
            "ok": totals.ok,
            "errors": totals.errors,
            "reasons": dict(sorted(totals.reasons.items())),
            "summaries_with_unsupported": totals.with_unsupported,
        },
        "repaired": {
            "torn_bytes_cut": result.reconciled.truncated_bytes,
            "lines_appended": result.reconciled.appended,
            "rows_backfilled": result.reconciled.backfilled,
        },
        "stopped": None if result.stopped is None else str(result.stopped),
        "exit_code": result.exit_code,
    }


def print_report(report: Mapping[str, Any], console: Console | None = None) -> None:
    """The report as a table on stderr."""
    console = console or Console(stderr=True)
    run, job = report["run"], report["job"]
    table = Table(title="batch report", show_header=True, header_style="bold")
    table.add_column("", style="bold")
    table.add_column("this run", justify="right")
    table.add_column("whole job", justify="right")
    table.add_row("articles written", str(run["written"]), f"{job['done']} / {job['items']}")
    table.add_row("ok", str(run["ok"]), str(job["ok"]))
    table.add_row("  cache hits", str(run["cache_hits"]), "")
    table.add_row(
        "  with unsupported figures",
        str(run["summaries_with_unsupported"]),
        str(job["summaries_with_unsupported"]),
    )
    table.add_row("errors", str(run["errors"]), str(job["errors"]))
    for reason in sorted(set(run["reasons"]) | set(job["reasons"])):
        table.add_row(
            f"  {reason}", str(run["reasons"].get(reason, 0)), str(job["reasons"].get(reason, 0))
        )
    table.add_row("already done (skipped)", str(run["already_done"]), "")
    table.add_row(
        "figures supported / unsupported",
        f"{run['figures_supported']} / {run['figures_unsupported']}",
        "",
    )
    tokens = run["tokens"]
    table.add_row(
        "tokens prompt / completion / cached",
        f"{tokens['prompt']:,} / {tokens['completion']:,} / {tokens['cached']:,}",
        "",
    )
    cost = run["estimated_cost_usd"]
    table.add_row(
        f"estimated cost ({run['model']})", "unknown model" if cost is None else f"${cost:.4f}", ""
    )
    rate = run["articles_per_s"]
    table.add_row("wall time", f"{run['wall_time_s']:.1f} s", "")
    table.add_row("articles/s", "-" if rate is None else f"{rate:.1f}", "")
    console.print(table)


def write_json_report(report: Mapping[str, Any], path: Path) -> None:
    try:
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror or err}", path=str(path)) from err


def load_prices(path: Path) -> dict[str, tuple[float, float, float]]:
    """The built-in price table, with the models of ``path`` (JSON: ``{"model": [input,
    cached input, output]}`` in US dollars per million tokens) added or replaced."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", path=str(path)) from err
    except ValueError as err:
        raise InputError(f"not valid JSON: {err}", path=str(path)) from err
    prices = dict(PRICES_PER_MTOK)
    if not isinstance(data, dict):
        raise InputError('expected {"model": [input, cached, output], ...}', path=str(path))
    for model, value in data.items():
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise InputError(
                f"{model!r}: expected [input, cached input, output] prices per million tokens",
                path=str(path),
            )
        prices[str(model)] = (float(value[0]), float(value[1]), float(value[2]))
    return prices
