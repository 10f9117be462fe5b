"""``summariser batch``: summarise a JSONL file or a folder of articles into one JSONL file.

Stage: edge (I/O). ``summariser batch INPUT -o OUT.jsonl`` is ``summariser batch run ...``:
a first argument that names no subcommand is taken as INPUT. The OpenAI Batch API commands
(``submit``, ``status``, ``collect``) are added by :mod:`summariser.batch.provider` when it is
there. ``run`` builds the settings and the backend (rate limited for ``openai``), then hands
them to :func:`summariser.batch.runner.run_batch`. Exit codes:

    0  every article has a record, every summary is clean
    3  every article has a record; some summary holds an unsupported figure (marked)
    7  every article has a record; some are error records (the report counts them by reason)
    2  bad input before anything ran: missing or empty input, duplicate ids, output not
       writable, a state file of another backend, model or input
    4  stopped by the backend (quota, authentication): done articles are kept, the same
       command resumes
    1  internal error

The exit code is the job's, over every run: a resume that has nothing left to do exits as
the run that finished the job.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    # typer 0.29 carries its own copy of click; its Context is the one TyperGroup takes.
    from typer._click.core import Context

    from summariser.backends.base import Backend
    from summariser.batch.runner import BatchJob, BatchResult
    from summariser.settings import Settings

__all__ = ["batch_app"]

EXIT_BAD_INPUT = 2


class _DefaultToRun(TyperGroup):
    """A group whose first argument, when it names no subcommand, is the INPUT of ``run``."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


batch_app = typer.Typer(
    cls=_DefaultToRun,
    help="Summarise many articles into one JSONL file: resumable, cached, rate limited. "
    "`summariser batch INPUT -o OUT.jsonl` runs them here (the same as `batch run`).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@batch_app.command("run")
def run_command(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help='A JSONL file ({"id", "text"} or {"id", "path"} a line; other fields are '
            "kept as metadata) or a folder of .txt/.md/.html files.",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="OUT.jsonl", help="One record a line.")
    ],
    backend: Annotated[str | None, typer.Option(help="openai or offline.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name (SUMMARISER_MODEL).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server (OPENAI_BASE_URL).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Articles in flight at once.")] = 8,
    rpm: Annotated[
        int | None, typer.Option(min=1, help="Requests per minute (openai; default: model's).")
    ] = None,
    tpm: Annotated[
        int | None, typer.Option(min=1, help="Tokens per minute (openai; default: model's).")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(metavar="PATH", help="Job state (SQLite); default OUT.jsonl.state.sqlite."),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(metavar="PATH", help="A summary cache (SQLite) shared between jobs."),
    ] = None,
    dedupe: Annotated[
        bool, typer.Option("--dedupe", help="Keep the first of lines that repeat an id.")
    ] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Forget this job's state and output; start over.")
    ] = False,
    prices: Annotated[
        Path | None,
        typer.Option(metavar="FILE.json", help='Prices: {"model": [input, cached, output]}/Mtok.'),
    ] = None,
    json_report: Annotated[
        Path | None, typer.Option("--json-report", metavar="FILE", help="Write the report here.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Summarise every article of INPUT into OUT.jsonl; run it again to resume.

    Exit 0 all ok, 3 some unsupported figures, 7 some articles failed (error records),
    2 bad input, 4 stopped by quota or authentication (the same command resumes), 1 a bug.
    """
    from summariser.batch.runner import BatchJob
    from summariser.console import ExitCode
    from summariser.console import guarded as _guarded

    job = BatchJob(
        input=source,
        output=output,
        state=state,
        cache=cache,
        concurrency=concurrency,
        dedupe=dedupe,
        fresh=fresh,
    )
    code = 0

    def inner() -> ExitCode:
        nonlocal code
        code = _run(
            job,
            backend=backend,
            model=model,
            base_url=base_url,
            limits=(rpm, tpm),
            prices=prices,
            json_report=json_report,
            quiet=quiet,
        )
        return ExitCode.OK

    guarded = _guarded(inner)
    raise typer.Exit(code if guarded == ExitCode.OK else int(guarded))


def _run(
    job: BatchJob,
    *,
    backend: str | None,
    model: str | None,
    base_url: str | None,
    limits: tuple[int | None, int | None],
    prices: Path | None,
    json_report: Path | None,
    quiet: bool,
) -> int:
    from summariser.backends.pricing import PRICES_PER_MTOK
    from summariser.batch.report import (
        BatchProgress,
        build_report,
        load_prices,
        print_report,
        write_json_report,
    )
    from summariser.batch.runner import EXIT_STOPPED, run_batch
    from summariser.settings import Settings

    price_table = load_prices(prices) if prices is not None else PRICES_PER_MTOK
    settings = Settings.from_env(backend=backend, model=model, base_url=base_url, allow_fake=False)
    if settings.backend_was_defaulted:
        _say("no OPENAI_API_KEY or OPENAI_BASE_URL set: using the offline backend")
    made = _make_backend(settings, limits)
    progress = BatchProgress(
        enabled=not quiet and sys.stderr.isatty(), model=made.model, prices=price_table
    )

    async def go() -> BatchResult:
        try:
            with progress:
                return await run_batch(
                    job,
                    settings,
                    made,
                    on_progress=progress.update,
                    on_ready=lambda stats, _: progress.start(stats),
                )
        finally:
            close = getattr(made, "aclose", None) or getattr(
                getattr(made, "inner", None), "aclose", None
            )
            if close is not None:
                await close()

    result = asyncio.run(go())
    report = build_report(result, model=made.model, prices=price_table)
    if not quiet:
        print_report(report)
    if json_report is not None:
        write_json_report(report, json_report)
    if result.stopped is not None:
        _say(f"stopped: {result.stopped}")
        _say(
            f"{result.totals.done} articles are saved in {job.output}; run the same command "
            "again to resume once the account is fixed"
        )
    elif result.totals.errors:
        _say(f"{result.totals.errors} articles failed: see the error records in {job.output}")
    assert result.exit_code != EXIT_STOPPED or result.stopped is not None
    return int(result.exit_code)


def _make_backend(settings: Settings, limits: tuple[int | None, int | None]) -> Backend:
    """The backend ``settings`` names; ``openai`` paced by a rate limiter."""
    from summariser.backends.registry import make_backend

    made = make_backend(settings)
    if settings.backend != "openai":
        return made
    from summariser.batch.ratelimit import RateLimiter, default_limits, rate_limited

    rpm_default, tpm_default = default_limits(settings.model)
    limiter = RateLimiter(limits[0] or rpm_default, limits[1] or tpm_default)
    return rate_limited(made, limiter, settings.model)


def _say(message: str) -> None:
    print(f"summariser: {message}", file=sys.stderr, flush=True)


def _register_provider_commands() -> None:
    """Add ``submit``, ``status`` and ``collect`` (the OpenAI Batch API) when the module that
    holds them is installed. Found by spec, not by catching ImportError: a bug in it should
    show, not hide the commands."""
    if importlib.util.find_spec("summariser.batch.provider") is None:
        return
    provider = importlib.import_module("summariser.batch.provider")
    register = getattr(provider, "register", None)
    if register is not None:
        register(batch_app)


_register_provider_commands()
