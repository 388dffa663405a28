"""Options and helpers shared by the CLI commands."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from seedbed.domain.errors import SeedbedError
from seedbed.settings import Settings
from seedbed.storage import migrate
from seedbed.storage.database import Database

# soft_wrap: long paths and ids are never broken by inserted newlines.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL [env: SEEDBED_DATABASE_URL; default: SQLite file in ~/.seedbed]",
        show_default=False,
    ),
]
WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace to act in.", envvar="SEEDBED_WORKSPACE")
]


def settings_with(**overrides) -> Settings:
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def open_database(database_url: str | None) -> Database:
    """The configured database, migrated to the newest schema."""
    database = Database(settings_with(database_url=database_url).database_url)
    migrate.upgrade(database)
    return database


def fail(error: SeedbedError) -> None:
    errors.print(f"[red]error:[/red] {error.message}")
    raise typer.Exit(code=1)


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    """A table on a terminal; tab-separated lines when piped, so that ids and names
    arrive whole whatever the width, ready for ``cut`` or the next command."""
    if console.is_terminal:
        table = Table(*columns)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    for row in [columns, *rows]:
        print("\t".join(row))
