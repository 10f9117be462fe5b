"""``summariser worker``: run Dramatiq worker processes for the summarise jobs.

Stage: edge (CLI). In: ``--broker`` (or ``SUMMARISER_BROKER_URL``), ``--database-url`` (or
``SUMMARISER_DATABASE_URL``: the store ``summariser serve --broker`` writes to), the process and
thread counts, and the ``SUMMARISER_*`` / ``OPENAI_*`` environment the jobs run with. Out: this
process becomes the ``dramatiq`` command line (``os.execve``), which starts the worker
processes and, on SIGTERM or Ctrl-C, lets each finish its job or hand it back to Redis. Exit 2
when the settings cannot work (no broker, an unknown backend, Dramatiq not installed).

The settings are checked here, once, so that a mistake ends the command with one message
instead of every worker process failing on its first job.
"""

from __future__ import annotations

from typing import Annotated

import typer


def worker(
    broker: Annotated[
        str | None, typer.Option(help="Redis URL of the broker (SUMMARISER_BROKER_URL).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="The job store the service uses (SUMMARISER_DATABASE_URL)."),
    ] = None,
    processes: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    threads: Annotated[int, typer.Option(min=1, help="Jobs run at once by each process.")] = 4,
) -> None:
    """Run jobs sent by `summariser serve --broker`: Dramatiq workers on Redis that share the
    service's job store. SIGTERM stops them gracefully."""
    from summariser.console import ExitCode, guarded

    def job() -> ExitCode:
        import importlib.util
        import os
        import sys

        from summariser.errors import ConfigurationError
        from summariser.service.settings import ServiceSettings
        from summariser.settings import Settings
        from summariser.workers import BROKER_URL_ENV, broker_url

        url = broker_url(broker)
        if url is None:
            raise ConfigurationError(f"give --broker or set {BROKER_URL_ENV} (a Redis URL)")
        if importlib.util.find_spec("dramatiq") is None:
            raise ConfigurationError("workers need Dramatiq: pip install 'dramatiq[redis]'")
        env = dict(os.environ)
        env[BROKER_URL_ENV] = url
        if database_url:
            env["SUMMARISER_DATABASE_URL"] = database_url
        ServiceSettings.from_env(env)
        Settings.from_env(env, allow_fake=False)
        argv = [
            sys.executable,
            "-m",
            "dramatiq",
            "summariser.workers.broker:setup_from_env",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, argv, env)  # replaces this process: signals reach dramatiq

    raise typer.Exit(guarded(job))
