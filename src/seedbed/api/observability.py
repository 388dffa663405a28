"""Operating a running server: one log line per request, and ``/metrics`` in Prometheus'
text format.

The log line says what was asked and how it went (method, path, status, milliseconds,
workspace) and never a key or a body. Metrics are labelled by the route's template
(``/v1/private/datasets/{dataset_id}``), not the path, so ids do not multiply series.
"""

import logging
import time
from collections.abc import Iterator

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seedbed.api.dependencies import WORKSPACE_HEADER
from seedbed.domain.jobs import FINISHED, QUEUED, RUNNING
from seedbed.services import metrics

request_log = logging.getLogger("seedbed.requests")

UNMATCHED_ROUTE = "unmatched"


def install_observability(app: FastAPI) -> None:
    """The request log and metrics middleware (outermost, so it times everything) and
    ``GET /metrics``."""
    registry = CollectorRegistry()
    registry.register(_StoredState(app))
    app.add_middleware(RequestObserver, meter=_RequestMeter(registry))

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _RequestMeter:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "seedbed_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "seedbed_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route.",
            ["method", "route"],
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class RequestObserver:
    """Pure ASGI, so a streamed response is timed to its last byte."""

    def __init__(self, app: ASGIApp, meter: _RequestMeter) -> None:
        self.app = app
        self.meter = meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            self.meter.observe(scope["method"], route, status, seconds)
            _log_request(scope, status, seconds)


def _route_template(scope: Scope) -> str:
    """The path with its parameters put back as names (``/api/v1/private/datasets/
    {dataset_id}``), whatever prefix the route was included under; a path no route
    matched counts as one."""
    if scope.get("route") is None:
        return UNMATCHED_ROUTE
    template = scope["path"]
    for name, value in scope.get("path_params", {}).items():
        template = template.replace(f"/{value}", f"/{{{name}}}", 1)
    return template


def _log_request(scope: Scope, status: int, seconds: float) -> None:
    workspace = _header(scope, WORKSPACE_HEADER) or "-"
    milliseconds = round(seconds * 1000, 1)
    request_log.info(
        "%s %s %d %.1fms workspace=%s",
        scope["method"],
        scope["path"],
        status,
        milliseconds,
        workspace,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "ms": milliseconds,
            "workspace": workspace,
        },
    )


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return value.decode("latin-1").strip() or None
    return None


class _StoredState:
    """Read at each scrape: jobs by status, and the generation account by provider."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "seedbed_generation_jobs", "Generation jobs by status.", labels=["status"]
        )
        with self.app.state.database.reading() as connection:
            counts = metrics.jobs_by_status(connection)
        for status in sorted({QUEUED, RUNNING, *FINISHED, *counts}):
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        calls = CounterMetricFamily(
            "seedbed_generation_calls",
            "Paid provider calls made by this process's generation runs.",
            labels=["provider"],
        )
        cached = CounterMetricFamily(
            "seedbed_generation_cached_calls",
            "Replies replayed from the response cache instead of a paid call.",
            labels=["provider"],
        )
        tokens = CounterMetricFamily(
            "seedbed_generation_tokens",
            "Tokens used by this process's generation runs.",
            labels=["provider", "kind"],
        )
        cost = CounterMetricFamily(
            "seedbed_generation_cost_usd",
            "Estimated cost (USD) of this process's generation runs.",
            labels=["provider"],
        )
        for provider, totals in sorted(metrics.generation_by_provider().items()):
            calls.add_metric([provider], totals.calls)
            cached.add_metric([provider], totals.cached_calls)
            tokens.add_metric([provider, "prompt"], totals.prompt_tokens)
            tokens.add_metric([provider, "completion"], totals.completion_tokens)
            cost.add_metric([provider], totals.cost)
        yield from (calls, cached, tokens, cost)
