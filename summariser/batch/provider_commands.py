"""``summariser batch submit|status|collect``: the command-line edge of provider batch files.

Stage: edge (I/O). In: the options of each command. Out: calls into
:mod:`summariser.batch.provider` (``submit``, ``poll``, ``collect``), lines on stdout and
stderr, and the CLI's exit codes (errors go through ``summariser.console.guarded``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from summariser.batch.provider import _open, collect, make_client, poll, submit
from summariser.settings import Settings


def _api_settings(work: Path) -> Settings:
    state = _open(work)
    try:
        model, base_url = state.meta("model"), state.meta("base_url") or None
    finally:
        state.close()
    return Settings.from_env(backend="openai", model=model, base_url=base_url)


def _run(job: Callable[[], Coroutine[Any, Any, int]]) -> None:
    """Run a command's coroutine, errors as one line and an exit code (as the CLI does)."""
    from summariser.console import ExitCode
    from summariser.console import guarded as _guarded

    raise typer.Exit(_guarded(lambda: ExitCode(asyncio.run(job()))))


def _say(message: str) -> None:
    print(f"summariser: {message}", file=sys.stderr)


Work = Annotated[Path, typer.Option("--work", help="The job's folder (state and files).")]


def register(batch_app: typer.Typer) -> None:
    """Add ``submit``, ``status`` and ``collect`` to the ``summariser batch`` group."""
    batch_app.command("submit")(_submit_command)
    batch_app.command("status")(_status_command)
    batch_app.command("collect")(_collect_command)


def _submit_command(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help="JSONL file or folder.")],
    work: Work,
    model: Annotated[str | None, typer.Option(help="Model name (SUMMARISER_MODEL).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="API base URL.")] = None,
    completion_window: Annotated[str, typer.Option(help="Batch completion window.")] = "24h",
    chunk_tokens: Annotated[int | None, typer.Option(help="Token budget of a chunk.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the request files only (for vLLM).")
    ] = False,
) -> None:
    """Write batch request files for INPUT and submit them (--dry-run: files only)."""

    async def job() -> int:
        settings = (
            Settings.from_env(model=model, base_url=base_url)
            if dry_run
            else Settings.from_env(backend="openai", model=model, base_url=base_url)
        )
        if chunk_tokens is not None:
            overlap = min(settings.chunk_overlap_tokens, chunk_tokens // 10)
            settings = replace(settings, chunk_tokens=chunk_tokens, chunk_overlap_tokens=overlap)
        client = None if dry_run else make_client(settings)
        try:
            paths = await submit(source, work, settings, client,
                                 completion_window=completion_window)  # fmt: skip
        finally:
            if client is not None:
                await client.close()
        for path in paths:
            print(path)
        return 0

    _run(job)


def _status_command(
    work: Work,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until every batch ends.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 60.0,
) -> None:
    """Print each batch's status and request counts."""

    async def job() -> int:
        client = make_client(_api_settings(work))
        try:
            rows = await poll(work, client, wait=wait, interval=interval)
        finally:
            await client.close()
        for batch_id, phase, status, counts in rows:
            done = f"{counts.get('completed', 0)}/{counts.get('total', 0)}"
            print(f"{batch_id}\t{phase}\t{status}\t{done} done\t{counts.get('failed', 0)} failed")
        return 0

    _run(job)


def _collect_command(
    work: Work,
    output: Annotated[Path, typer.Option("--output", "-o", help="Summaries (JSONL, appended).")],
    results_file: Annotated[
        Path | None, typer.Option("--results", help="A local results file (vLLM run_batch).")
    ] = None,
    resubmit: Annotated[
        bool, typer.Option("--resubmit", help="Send failed requests again in a new batch.")
    ] = False,
) -> None:
    """Read finished batches, write the summaries they complete, queue what remains."""

    async def job() -> int:
        state = _open(work)
        local = state.meta("mode") != "api" or results_file is not None
        state.close()
        client = None if local else make_client(_api_settings(work))
        try:
            report = await collect(work, output, client, results_file=results_file,
                                   resubmit=resubmit)  # fmt: skip
        finally:
            if client is not None:
                await client.close()
        _say(f"{report.written} written, {report.waiting} waiting")
        for path in report.submitted:
            _say(f"queued {path}")
        return 0

    _run(job)
