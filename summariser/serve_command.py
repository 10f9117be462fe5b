"""``summariser serve``: run the HTTP API (FastAPI on uvicorn) in this process.

Stage: edge (CLI). In: ``--host``, ``--port``, ``--open`` and the ``SUMMARISER_*`` /
``OPENAI_*`` environment, read once here into
:class:`~summariser.service.settings.ServiceSettings` and :class:`~summariser.Settings`.
Out: a running server until interrupted; exit 2 when the settings cannot work (an open API on
a non-loopback host without ``--open``, a bad key hash, an unknown backend). FastAPI and
uvicorn are imported only when the command runs.

With ``--broker URL`` (or ``SUMMARISER_BROKER_URL``) the service runs no job itself: it sends
each job id to the Dramatiq workers (``summariser worker``) through that Redis, and they share
its store (``SUMMARISER_DATABASE_URL``). Dramatiq is imported only then.
"""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (SUMMARISER_HOST; 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (SUMMARISER_PORT; 8000).")] = None,
    open_api: Annotated[
        bool,
        typer.Option(
            "--open", help="Serve without API keys on a non-loopback host (no authentication)."
        ),
    ] = False,
    broker: Annotated[
        str | None,
        typer.Option(
            help="Redis URL: send jobs to `summariser worker` processes instead of running them "
            "here (SUMMARISER_BROKER_URL)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(help="json (one object per line) or text (SUMMARISER_LOG_FORMAT; json)."),
    ] = None,
) -> None:
    """Serve the HTTP API: POST /v1/summaries, GET /v1/summaries/{id}, /healthz, /readyz,
    /metrics. Keys come from SUMMARISER_API_KEYS or SUMMARISER_API_KEY_HASHES."""
    from summariser.console import ExitCode
    from summariser.console import guarded as _guarded
    from summariser.console import say as _say

    def job() -> ExitCode:
        import logging

        import uvicorn

        from summariser.logs import configure_logging
        from summariser.logs import log_format as resolve_log_format
        from summariser.service.app import create_app
        from summariser.service.settings import ServiceSettings
        from summariser.service.store import open_store
        from summariser.settings import Settings
        from summariser.workers import broker_namespace, broker_url, ping_broker

        fmt = resolve_log_format(log_format)
        service = ServiceSettings.from_env(host=host, port=port, open_without_keys=open_api)
        service.check_exposure()
        settings = Settings.from_env()
        if settings.backend_was_defaulted:
            _say("no OPENAI_API_KEY or OPENAI_BASE_URL set: using the offline backend")
        if not service.auth_required:
            _say(f"no API key configured: the API on {service.host} is open to every caller")
        url = broker_url(broker)
        open_store(service.store_url).close()  # a database that does not answer: exit 2 now
        if url is not None:
            from summariser.service.jobs import use_dispatch
            from summariser.workers.broker import dispatcher

            ping_broker(url)  # likewise a broker
            use_dispatch(dispatcher(url, namespace=broker_namespace()))
            _say("jobs go to the workers through the broker (summariser worker)")
        app = create_app(service, settings)
        # uvicorn's loggers (requests, start-up) propagate to the root logger: one format for
        # every line, with the job id on the lines logged while a job runs
        configure_logging(fmt, logging.INFO)
        uvicorn.run(app, host=service.host, port=service.port, log_level="info", log_config=None)
        return ExitCode.OK

    raise typer.Exit(_guarded(job))
