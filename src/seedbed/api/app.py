"""The application factory."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI

import seedbed
from seedbed.api.body import RequestBodyMiddleware
from seedbed.api.collinear import install_collinear_routes
from seedbed.api.concurrency import ConcurrentRequestLimit
from seedbed.api.errors import install_error_handlers
from seedbed.api.galileo import install_galileo_routes
from seedbed.api.native import install_native_routes
from seedbed.api.observability import install_observability
from seedbed.api.opik import install_opik_routes
from seedbed.providers.registry import ProviderRegistry, import_provider_sdks
from seedbed.services.job_events import JobEvents
from seedbed.services.job_executor import InProcessJobExecutor
from seedbed.settings import Settings
from seedbed.storage.database import CONCURRENT_REQUESTS, Database
from seedbed.web import install_web_ui


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    providers: ProviderRegistry | None = None,
) -> FastAPI:
    """Build the app. The database must already be migrated (``seedbed serve`` does it)."""
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_run_jobs,
        title="seedbed",
        version=seedbed.__version__,
        description="Grow LLM-evaluation datasets from a handful of seeds. Opik-compatible REST API.",
        # Served by the web UI with assets from the package, so they work offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    app.state.providers = providers or ProviderRegistry(settings)
    app.state.job_dispatcher = _job_dispatcher(app)
    app.state.job_events = JobEvents(app.state.database)
    install_error_handlers(app)
    install_opik_routes(app)
    install_collinear_routes(app)
    install_native_routes(app)
    # Before Galileo's routes: both serve GET /datasets (pages for browsers, JSON for its client).
    install_web_ui(app)
    install_galileo_routes(app)
    app.add_middleware(ConcurrentRequestLimit, limit=CONCURRENT_REQUESTS)
    app.add_middleware(RequestBodyMiddleware, max_body_bytes=settings.max_body_bytes)
    # Last, so outermost: every request is logged and timed, refused ones included.
    install_observability(app)
    return app


def _job_dispatcher(app: FastAPI):
    if app.state.settings.job_runner == "workers":
        from seedbed.workers import WorkerDispatcher

        return WorkerDispatcher(app.state.database)
    return InProcessJobExecutor(app.state.database, app.state.providers)


async def _import_sdks_then_freeze(settings: Settings) -> None:
    await asyncio.to_thread(import_provider_sdks, settings)
    # What the process holds once started (modules, the app, the SDKs' types: some
    # 230,000 objects) lives as long as it does. Out of the garbage collector's sight, a
    # full collection no longer walks them all, 150-300 ms each time, which under a
    # stream of writes came several times a second. Once per process (the first app).
    if gc.get_freeze_count() == 0:
        gc.freeze()


@contextlib.asynccontextmanager
async def _run_jobs(app: FastAPI) -> AsyncIterator[None]:
    """In-process jobs run while the app runs; with workers, the app only enqueues."""
    # In a thread, while the app already answers: the first generation request would
    # otherwise import its provider's SDK inside the event loop, holding every request.
    app.state.sdk_import = asyncio.create_task(_import_sdks_then_freeze(app.state.settings))
    dispatcher = app.state.job_dispatcher
    await dispatcher.start()
    try:
        yield
    finally:
        await app.state.job_events.aclose()
        await dispatcher.stop()
        await app.state.providers.aclose()
