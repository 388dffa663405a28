"""The application factory."""

from fastapi import FastAPI

import seedbed
from seedbed.api.body import RequestBodyMiddleware
from seedbed.api.errors import install_error_handlers
from seedbed.api.opik import install_opik_routes
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.storage.database import Database


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    providers: ProviderRegistry | None = None,
) -> FastAPI:
    """Build the app. The database must already be migrated (``seedbed serve`` does it)."""
    settings = settings or Settings()
    app = FastAPI(
        title="seedbed",
        version=seedbed.__version__,
        description="Grow LLM-evaluation datasets from a handful of seeds. Opik-compatible REST API.",
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    app.state.providers = providers or ProviderRegistry(settings)
    install_error_handlers(app)
    install_opik_routes(app)
    app.add_middleware(RequestBodyMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
