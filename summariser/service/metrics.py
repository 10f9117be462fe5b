"""Prometheus metrics of one app: requests, latency, jobs, tokens and unsupported figures.

Stage: service edge (observability). In: requests seen by :class:`MetricsMiddleware`, and
finished jobs reported by the job queue. Out: the Prometheus text format at ``/metrics``.
Each app has its own :class:`~prometheus_client.CollectorRegistry`, so two apps (two tests)
never share counters. The unsupported-figure rate is
``summariser_figures_total{verdict="unsupported"} / sum(summariser_figures_total)``.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from summariser.schema import Summary

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class ServiceMetrics:
    """The collectors of one app, in their own registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "summariser_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "summariser_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.jobs = Counter(
            "summariser_jobs", "Finished jobs by kind and outcome.", ["kind", "outcome"], registry=r
        )
        self.job_duration = Histogram(
            "summariser_job_duration_seconds",
            "Time from a job's start to its end, by kind.",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.jobs_running = Gauge("summariser_jobs_running", "Jobs running now.", registry=r)
        self.jobs_queued = Gauge("summariser_jobs_queued", "Jobs waiting for a worker.", registry=r)
        self.tokens = Counter(
            "summariser_tokens", "Tokens used by the backend, by type.", ["type"], registry=r
        )
        self.figures = Counter(
            "summariser_figures",
            "Figures in finished summaries, by the validator's verdict.",
            ["verdict"],
            registry=r,
        )
        self.summaries_unsupported = Counter(
            "summariser_summaries_with_unsupported_figures",
            "Finished summaries holding at least one unsupported figure.",
            registry=r,
        )

    def observe_summary(self, summary: Summary) -> None:
        """Count the tokens and the figure verdicts of a finished summary."""
        usage = summary.provenance.usage
        self.tokens.labels("prompt").inc(usage.prompt_tokens)
        self.tokens.labels("completion").inc(usage.completion_tokens)
        self.tokens.labels("cached").inc(usage.cached_tokens)
        report = summary.validation
        self.figures.labels("supported").inc(report.figures_supported)
        self.figures.labels("unsupported").inc(report.figures_unsupported)
        if report.figures_unsupported:
            self.summaries_unsupported.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request by route template (not raw path: ids would explode the
    label set) and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)
