"""``summariser worker``: run Dramatiq worker processes for the summarise jobs.

Stage: edge (CLI). In: ``--broker`` (or ``SUMMARISER_BROKER_URL``), ``--database-url`` (or
``SUMMARISER_DATABASE_URL``: the store ``summariser serve --broker`` writes to), the process and
thread counts, and the ``SUMMARISER_*`` / ``OPENAI_*`` environment the jobs run with. Out: this
process becomes the ``dramatiq`` command line (``os.execve``), which starts the worker
processes and, on SIGTERM or Ctrl-C, lets each finish its job or hand it back to Redis. Exit 2
when the settings cannot work (no broker, an unknown backend, Dramatiq not installed).

The workers log JSON lines (``--log-format``, ``SUMMARISER_LOG_FORMAT``) and serve Prometheus
metrics once per invocation on ``--metrics-host``:``--metrics-port`` (127.0.0.1:9191; port 0:
none), their processes writing to a fresh ``PROMETHEUS_MULTIPROC_DIR`` made here (see
:mod:`summariser.workers.metrics`). The settings reach the worker processes as environment
variables.

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
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help="Port of the Prometheus /metrics (SUMMARISER_WORKER_METRICS_PORT; 9191; 0: none).",
        ),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option(
            help="Address /metrics listens on (SUMMARISER_WORKER_METRICS_HOST; 127.0.0.1; "
            "0.0.0.0 for a Prometheus on another machine)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            help="json (one object per line) or text (SUMMARISER_LOG_FORMAT; json).",
        ),
    ] = None,
    redelivery_after: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="A worker silent this long is dead and its jobs go to another "
            "(SUMMARISER_REDELIVERY_S; 60; the same on every machine).",
        ),
    ] = None,
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
        from summariser.service.store import open_store
        from summariser.settings import Settings
        from summariser.workers import (
            BROKER_URL_ENV,
            REDELIVERY_ENV,
            broker_url,
            ping_broker,
        )
        from summariser.workers import redelivery_after as resolve_redelivery

        url = broker_url(broker)
        if url is None:
            raise ConfigurationError(f"give --broker or set {BROKER_URL_ENV} (a Redis URL)")
        if importlib.util.find_spec("dramatiq") is None:
            raise ConfigurationError("workers need Dramatiq: pip install 'dramatiq[redis]'")
        from summariser.logs import LOG_FORMAT_ENV
        from summariser.logs import log_format as resolve_log_format
        from summariser.workers.metrics import (
            MULTIPROC_DIR_ENV,
            MetricsSettings,
            prepare_multiproc_dir,
        )

        env = dict(os.environ)
        env[BROKER_URL_ENV] = url
        if database_url:
            env["SUMMARISER_DATABASE_URL"] = database_url
        service = ServiceSettings.from_env(env)
        Settings.from_env(env, allow_fake=False)
        env[REDELIVERY_ENV] = str(resolve_redelivery(redelivery_after, env))
        env[LOG_FORMAT_ENV] = resolve_log_format(log_format, env)
        metrics = MetricsSettings.resolve(metrics_host, metrics_port, env)
        env.update(metrics.to_env())
        if metrics.enabled:
            # Before any worker process imports prometheus_client: its mode is chosen then.
            env[MULTIPROC_DIR_ENV] = prepare_multiproc_dir(env.get(MULTIPROC_DIR_ENV))
        # Fail now, with one message, rather than in every worker process on every message.
        ping_broker(url)
        open_store(service.store_url).close()
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
