"""``seedbed worker``."""

from typing import Annotated

import typer

from seedbed.cli.common import DatabaseUrlOption, fail, settings_with
from seedbed.cli.logs import LEVELS, show_logs


def worker(
    concurrency: Annotated[
        int,
        typer.Option(min=1, help="How many chunks of generation jobs this worker runs at a time."),
    ] = 4,
    log_level: Annotated[
        str,
        typer.Option("--log-level", help=f"Least severe log records shown: {', '.join(LEVELS)}."),
    ] = "info",
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object a line, for a log collector.")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run queued generation jobs (PostgreSQL).

    Runs the generation jobs that a server with SEEDBED_JOB_RUNNER=workers queues.
    Start as many as you like, on any machine that reaches the database; the chunks of
    a worker that died run again on another within seconds."""
    # Imported here: the generation engine and procrastinate are not needed by --help.
    from seedbed.domain.errors import SeedbedError
    from seedbed.workers import run_worker

    if log_level.lower() not in LEVELS:
        fail(f"--log-level must be one of {', '.join(LEVELS)}, not {log_level!r}", code=2)
    show_logs(log_level.lower(), log_json, loggers=("seedbed", "procrastinate"))
    try:
        run_worker(settings_with(database_url=database_url), concurrency)
    except SeedbedError as error:
        fail(error)
