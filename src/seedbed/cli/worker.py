"""``seedbed worker``."""

import logging
from typing import Annotated

import typer

from seedbed.cli.common import DatabaseUrlOption, fail, settings_with
from seedbed.domain.errors import SeedbedError


def worker(
    concurrency: Annotated[
        int,
        typer.Option(min=1, help="How many chunks of generation jobs this worker runs at a time."),
    ] = 4,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run the generation jobs that a server with SEEDBED_JOB_RUNNER=workers queues
    (PostgreSQL only). Start as many as you like, on any machine that reaches the
    database; the chunks of a worker that died run again on another within seconds."""
    # Imported here: the generation engine and procrastinate are not needed by --help.
    from seedbed.workers import run_worker

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in ("seedbed", "procrastinate"):
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        run_worker(settings_with(database_url=database_url), concurrency)
    except SeedbedError as error:
        fail(error)
