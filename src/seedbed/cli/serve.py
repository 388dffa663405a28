"""``seedbed serve``."""

from typing import Annotated

import typer

from seedbed.cli.common import DatabaseUrlOption, console, fail, open_database, settings_with
from seedbed.cli.logs import LEVELS, show_logs

# How long an idle client connection stays open. Longer than clients keep theirs (httpx,
# which the Opik client uses, drops an idle connection after 5 s): at uvicorn's own 5 s a
# client could send a request on a connection at the moment the server closed it, and
# get no answer (seen as ReadError under load).
KEEP_ALIVE_SECONDS = 75


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on; anything but a loopback address requires API keys "
            "(env SEEDBED_HOST; default: 127.0.0.1).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on (env SEEDBED_PORT; default: 5174).", show_default=False
        ),
    ] = None,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help=f"Least severe log records shown: {', '.join(LEVELS)}. At info, one line per request.",
        ),
    ] = "info",
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object a line, for a log collector.")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run the seedbed server: web UI and APIs.

    The web UI, the Opik-, Galileo- and Collinear-compatible APIs and seedbed's own."""
    if log_level.lower() not in LEVELS:
        fail(f"--log-level must be one of {', '.join(LEVELS)}, not {log_level!r}", code=2)
    # Imported here: the app, uvicorn and the database are not needed by --help.
    import uvicorn

    from seedbed.api.app import create_app
    from seedbed.domain.errors import SeedbedError
    from seedbed.storage.server_lock import hold_server_lock

    # With JSON logs, uvicorn's own records (start-up, errors) are JSON lines too.
    show_logs(
        log_level.lower(), log_json, loggers=("seedbed", "uvicorn") if log_json else ("seedbed",)
    )
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
    base = f"http://{settings.host}:{settings.port}"
    mode = "API keys required" if settings.requires_api_key else "local mode, no API key needed"
    console.print(f"seedbed listening on {base} ({mode})", highlight=False)
    console.print(f"  web UI:       {base}/", highlight=False)
    console.print(f"  API docs:     {base}/docs", highlight=False)
    console.print(f"  Opik clients: OPIK_URL_OVERRIDE={base}/api", highlight=False)
    console.print(f"  metrics:      {base}/metrics", highlight=False)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        # seedbed logs each request itself (seedbed.requests), with its workspace.
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        log_config=None if log_json else uvicorn.config.LOGGING_CONFIG,
    )
