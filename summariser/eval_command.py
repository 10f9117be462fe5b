"""``summariser eval run`` and ``summariser eval compare``: the command-line edge of ``evals``.

Stage: edge (I/O). ``run`` builds the settings, loads the dataset and hands both to
:func:`evals.runner.run_eval`; ``compare`` reads two run folders and prints
:func:`evals.compare.compare_runs` as a table or JSON. Exit codes:

    0    done (run), no regression past --max-drop (compare)
    2    bad input: unknown dataset, unreadable data or run folder, a folder of another run
    4    the backend failed in a way that stops the run (quota, authentication); done items kept
    5    compare: some metric regressed past --max-drop
    130  interrupted (Ctrl-C); done items kept, the same command resumes

The ``evals`` package is imported inside the commands, so ``summariser --help`` stays light.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from evals.compare import Comparison
    from evals.runner import RunResult

REGRESSION = 5
INTERRUPTED = 130

eval_app = typer.Typer(
    help="Evaluate the validator and the summariser on datasets; compare runs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _say(message: str) -> None:
    print(f"summariser: {message}", file=sys.stderr, flush=True)


def _guard(job: Callable[[], int]) -> int:
    """Run ``job`` under the CLI's error handling (one-line messages, exit 2 / 4 / 1)."""
    from summariser.console import ExitCode
    from summariser.console import guarded as _guarded

    code = 0

    def inner() -> ExitCode:
        nonlocal code
        code = job()
        return ExitCode.OK

    guarded = _guarded(inner)
    return code if guarded == ExitCode.OK else int(guarded)


@eval_app.command("run")
def run_command(
    dataset: Annotated[str, typer.Option(help="Dataset name, e.g. validator-suite, seed.")],
    out: Annotated[str, typer.Option(metavar="DIR", help="The run folder (resumed if present).")],
    limit: Annotated[int | None, typer.Option(help="At most N items (stratified).")] = None,
    backend: Annotated[str | None, typer.Option(help="openai or offline.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name (SUMMARISER_MODEL).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server.")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Items in flight at once.")] = 4,
    data: Annotated[
        str | None, typer.Option(metavar="DIR", help="Data folder (default: ../shared).")
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start over in --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a dataset's eval into a folder: samples.jsonl, summary.json, report.html.

    Exit 0 done, 2 bad input, 4 backend failure (quota, auth), 130 interrupted.
    """

    def job() -> int:
        from evals import runner
        from summariser.errors import InputError
        from summariser.settings import Settings

        if concurrency < 1:
            raise InputError(f"--concurrency must be at least 1, not {concurrency}")
        settings = Settings.from_env(
            backend=backend, model=model, base_url=base_url, allow_fake=False
        )
        loaded = runner.open_dataset(dataset, data, limit=limit)
        if settings.backend_was_defaulted and loaded.task != "validate":
            _say("no OPENAI_API_KEY or OPENAI_BASE_URL set: using the offline backend")
        try:
            result = runner.run_eval(
                loaded,
                out,
                settings,
                task=runner.task_for(loaded),
                concurrency=concurrency,
                fresh=fresh,
                progress=not quiet and sys.stderr.isatty(),
                parameters={"limit": limit},
            )
        except KeyboardInterrupt:
            _say(
                f"interrupted: the items done are saved in {out}; run the same command again "
                "to resume"
            )
            return INTERRUPTED
        except Exception as err:
            from evals.runner import FATAL_ERRORS

            if isinstance(err, FATAL_ERRORS):
                _say(f"stopped early; the items done are saved in {out} (rerun to resume)")
            raise
        _print_run(result)
        return 0

    raise typer.Exit(_guard(job))


def _print_run(result: RunResult) -> None:
    summary = result.summary
    for metric in summary["metrics"]:
        value, low, high = metric["value"], metric["low"], metric["high"]
        shown = "n/a" if value is None else f"{value:.4f}"
        interval = f" [{low:.4f}, {high:.4f}]" if low is not None and high is not None else ""
        typer.echo(f"{metric['name']:<28} {shown}{interval}  n={metric['count']}")
    skipped = f", {result.skipped} already done" if result.skipped else ""
    _say(
        f"{result.ran} items run{skipped}, {summary['errors']} errors; "
        f"report: {result.folder / 'report.html'}"
    )


@eval_app.command("compare")
def compare_command(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="The baseline run folder.")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="The candidate run folder.")],
    max_drop: Annotated[
        float, typer.Option("--max-drop", help="Largest allowed regression (absolute).")
    ] = 0.02,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="Compare only this metric (repeat).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, not a table.")] = False,
) -> None:
    """Compare run B against run A: deltas, noise, flipped items.

    Exit 0 when no metric regressed past --max-drop, 5 when one did, 2 for unreadable runs.
    """

    def job() -> int:
        from evals.compare import compare_runs
        from evals.store import load_run

        comparison = compare_runs(
            load_run(run_a), load_run(run_b), max_drop=max_drop, metrics=metric or ()
        )
        for warning in comparison.warnings:
            _say(f"warning: {warning}")
        if as_json:
            typer.echo(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2))
        else:
            _print_comparison(comparison)
        return REGRESSION if comparison.regressions else 0

    raise typer.Exit(_guard(job))


def _print_comparison(comparison: Comparison) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    title = escape(f"{comparison.run_a} -> {comparison.run_b}")
    table = Table(title=title, title_justify="left")
    for column in ("metric", "better", "slice", "A", "B", "delta", "beyond noise", "verdict"):
        text = column in ("metric", "slice")
        table.add_column(
            column, justify="left" if text else "right", no_wrap=not text, overflow="fold"
        )
    for m in comparison.metrics:
        noise = {True: "yes", False: "no", None: "?"}[m.beyond_noise]
        arrow = "higher" if m.higher_is_better else "lower"
        verdict = "[red]REGRESSION[/red]" if m.regression else ""
        table.add_row(
            escape(m.name),
            arrow,
            escape(m.slice or "(all)"),
            f"{m.a:.4f}",
            f"{m.b:.4f}",
            f"{m.delta:+.4f}",
            noise,
            verdict,
        )
    console.print(table)
    for title, flips in (("better", comparison.better), ("worse", comparison.worse)):
        shown = ", ".join(
            f"{f.id} ({f.kind or '-'}: {f.loss_a:.3g}->{f.loss_b:.3g})" for f in flips[:20]
        )
        more = f" (+{len(flips) - 20} more)" if len(flips) > 20 else ""
        console.print(f"{len(flips)} items {title}: {shown}{more}", markup=False)
    if comparison.only_a or comparison.only_b:
        console.print(f"items only in A: {comparison.only_a}, only in B: {comparison.only_b}")
    regressions = comparison.regressions
    console.print(
        f"[red]{len(regressions)} metrics regressed past {comparison.max_drop}[/red]"
        if regressions
        else f"no metric regressed past {comparison.max_drop}"
    )
