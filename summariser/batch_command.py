"""``summariser batch``: summarise a JSONL file or a folder of articles into one JSONL file.

Stage: edge (I/O). ``summariser batch INPUT -o OUT.jsonl`` is ``summariser batch run ...``:
a first argument that names no subcommand is taken as INPUT. The OpenAI Batch API commands
(``submit``, ``status``, ``collect``) are added by :mod:`summariser.batch.provider` when it is
there. ``run`` builds the settings and the backend (rate limited for ``openai``), then hands
them to :func:`summariser.batch.runner.run_batch`. With ``--broker URL`` (or
``SUMMARISER_BROKER_URL``) it summarises nothing itself: the articles become jobs for the
Dramatiq workers (:mod:`summariser.batch.remote`), in the job store they share
(``--database-url``, else ``SUMMARISER_DATABASE_URL``, else ``SUMMARISER_JOBS_DB``), and the
workers' backend, model and shared rate limit are used. Exit codes:

    0  every article has a record, every summary is clean
    3  every article has a record; some summary holds an unsupported figure (marked)
    7  every article has a record; some are error records (the report counts them by reason)
    2  bad input before anything ran: missing or empty input, duplicate ids, output not
       writable, a state file of another backend, model or input; a broker or job database
       that cannot be reached
    4  stopped by the backend (quota, authentication; with a broker, also the broker or the
       job database going away): done articles are kept, the same command resumes
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
    from summariser.batch.remote import RemoteSummaries
    from summariser.batch.runner import BatchJob, BatchResult, SummarySource
    from summariser.settings import Settings

__all__ = ["batch_app"]

EXIT_BAD_INPUT = 2
CONCURRENCY = 8  # articles summarised at once here
BROKER_CONCURRENCY = 64  # jobs outstanding at once with --broker


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
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Articles in flight at once (default {CONCURRENCY}); with --broker, jobs "
            f"outstanding at once (default {BROKER_CONCURRENCY}).",
        ),
    ] = None,
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
    broker: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Redis of `summariser worker` processes (SUMMARISER_BROKER_URL): send the "
            "articles to them as jobs instead of summarising here.",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="With --broker: the job store the workers share (SUMMARISER_DATABASE_URL, "
            "else the SQLite file SUMMARISER_JOBS_DB).",
        ),
    ] = None,
) -> None:
    """Summarise every article of INPUT into OUT.jsonl; run it again to resume.

    Exit 0 all ok, 3 some unsupported figures, 7 some articles failed (error records),
    2 bad input, 4 stopped by quota or authentication (the same command resumes), 1 a bug.
    """
    from summariser.batch.runner import BatchJob
    from summariser.console import ExitCode
    from summariser.console import guarded as _guarded
    from summariser.workers import broker_url

    code = 0

    def inner() -> ExitCode:
        nonlocal code
        url = broker_url(broker)
        if url is not None:
            _refuse_local_options(backend=backend, model=model, base_url=base_url, rpm=rpm, tpm=tpm)
        elif database_url is not None:
            raise _configuration_error(
                "--database-url is the workers' job store: it needs --broker"
            )
        default = CONCURRENCY if url is None else BROKER_CONCURRENCY
        job = BatchJob(
            input=source,
            output=output,
            state=state,
            cache=cache,
            concurrency=concurrency or default,
            dedupe=dedupe,
            fresh=fresh,
        )
        code = _run(
            job,
            backend=backend,
            model=model,
            base_url=base_url,
            limits=(rpm, tpm),
            remote=None if url is None else (url, database_url),
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
    remote: tuple[str, str | None] | None,
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
    from summariser.batch.runner import EXIT_STOPPED, LocalSummaries, RunStats, run_batch_with
    from summariser.settings import Settings

    price_table = load_prices(prices) if prices is not None else PRICES_PER_MTOK
    source: SummarySource
    if remote is None:
        settings = Settings.from_env(
            backend=backend, model=model, base_url=base_url, allow_fake=False
        )
        if settings.backend_was_defaulted:
            _say("no OPENAI_API_KEY or OPENAI_BASE_URL set: using the offline backend")
        made = _make_backend(settings, limits)
        source = LocalSummaries(settings, made)
        fixed_model: str | None = made.model
        close = getattr(made, "aclose", None) or getattr(
            getattr(made, "inner", None), "aclose", None
        )
    else:
        workers = _connect(*remote)
        source, fixed_model, close = workers, None, workers.aclose

    def model_of(stats: RunStats) -> str:
        """The model to price: the backend's here; with workers, the one that made most of
        this run's summaries (their provenance says)."""
        if fixed_model is not None:
            return fixed_model
        top = stats.models.most_common(1)
        return top[0][0] if top else "the workers' model"

    progress = BatchProgress(
        enabled=not quiet and sys.stderr.isatty(), model=fixed_model or "", prices=price_table
    )

    def on_progress(stats: RunStats) -> None:
        progress.model = model_of(stats)
        progress.update(stats)

    async def go() -> BatchResult:
        try:
            with progress:
                return await run_batch_with(
                    job,
                    source,
                    on_progress=on_progress,
                    on_ready=lambda stats, _: progress.start(stats),
                )
        finally:
            if close is not None:
                await close()

    result = asyncio.run(go())
    report = build_report(result, model=model_of(result.stats), prices=price_table)
    if not quiet:
        print_report(report)
    if json_report is not None:
        write_json_report(report, json_report)
    if result.stopped is not None:
        _say(f"stopped: {result.stopped}")
        fix = "the account is fixed" if remote is None else "that is fixed"
        _say(
            f"{result.totals.done} articles are saved in {job.output}; run the same command "
            f"again to resume once {fix}"
        )
    elif result.totals.errors:
        _say(f"{result.totals.errors} articles failed: see the error records in {job.output}")
    assert result.exit_code != EXIT_STOPPED or result.stopped is not None
    return int(result.exit_code)


def _connect(url: str, database_url: str | None) -> RemoteSummaries:
    """The workers' job store and broker, both answering (else ConfigurationError: exit 2)."""
    from summariser.batch.remote import connect
    from summariser.service.settings import ServiceSettings
    from summariser.workers import broker_namespace

    database = database_url or ServiceSettings.from_env().store_url
    return connect(url, database, namespace=broker_namespace(), on_notice=_say)


def _refuse_local_options(**given: object) -> None:
    """With a broker the workers summarise, with their own backend, model and shared limit:
    these options would change nothing, so they are refused rather than ignored."""
    named = [f"--{name.replace('_', '-')}" for name, value in given.items() if value is not None]
    if named:
        raise _configuration_error(
            f"{', '.join(named)}: with --broker the workers choose the backend, model and rate "
            "limit (SUMMARISER_BACKEND, SUMMARISER_MODEL, OPENAI_*, SUMMARISER_RPM/TPM in their "
            "environment)"
        )


def _configuration_error(message: str) -> Exception:
    from summariser.errors import ConfigurationError

    return ConfigurationError(message)


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
