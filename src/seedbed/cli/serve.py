"""``seedbed serve``."""

from typing import Annotated

import typer
import uvicorn

from seedbed.api.app import create_app
from seedbed.cli.common import DatabaseUrlOption, console, fail, open_database, settings_with
from seedbed.domain.errors import SeedbedError
from seedbed.storage.server_lock import hold_server_lock


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on. Anything but a loopback address requires API keys. [env: SEEDBED_HOST; default: 127.0.0.1]",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on. [env: SEEDBED_PORT; default: 5174]", show_default=False
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run the seedbed server (Opik-compatible REST API)."""
    settings = settings_with(host=host, port=port, database_url=database_url)
    try:
        hold_server_lock(settings.database_url)  # until the process ends
    except SeedbedError as error:
        fail(error)
    database = open_database(settings.database_url)
    try:
        app = create_app(settings, database)
    except SeedbedError as error:  # a setting that cannot work, e.g. workers on SQLite
        fail(error)
    mode = "API keys required" if settings.requires_api_key else "local mode, no API key needed"
    console.print(f"seedbed listening on http://{settings.host}:{settings.port} ({mode})")
    console.print(f"  Opik clients: OPIK_URL_OVERRIDE=http://{settings.host}:{settings.port}/api")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
