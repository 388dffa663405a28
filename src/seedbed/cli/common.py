"""Options and helpers shared by the CLI commands.

Start-up time matters here: ``seedbed --help`` and every command's help must come up at
once. So this module, and the top of every command module, import only typer and the
standard library; the database, the services and rich are imported when a command runs.
"""

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

if TYPE_CHECKING:
    from rich.console import Console

    from seedbed.domain.errors import SeedbedError
    from seedbed.settings import Settings
    from seedbed.storage.database import Database

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (env SEEDBED_DATABASE_URL; default: the SQLite file "
        "~/.seedbed/seedbed.db).",
        show_default=False,
    ),
]
WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace to act in.", envvar="SEEDBED_WORKSPACE")
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only results and errors: no progress, no notes."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on standard output, for scripts.")
]


class _PlainUsageCommand(TyperCommand):
    """Usage lines as people write them: ``seedbed expand [OPTIONS] SOURCE``, not
    typer's ``{SOURCE}``."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [re.sub(r"^\{(.+)\}", r"\1", piece) for piece in super().collect_usage_pieces(ctx)]


class SeedbedTyper(typer.Typer):
    """Commands with plain usage lines, and help printed plain: rich markup would eat
    "[default: ...]" and show flags as "<bool>"."""

    def __init__(self, **options: Any) -> None:
        super().__init__(rich_markup_mode=None, **options)

    def command(self, *args: Any, **options: Any):
        options.setdefault("cls", _PlainUsageCommand)
        return super().command(*args, **options)


def command_group(help: str) -> SeedbedTyper:
    """A group of commands (``seedbed datasets ...``)."""
    return SeedbedTyper(help=help, no_args_is_help=True)


class _LazyConsole:
    """A rich console made on first use: importing rich costs a fifth of a second that
    ``--help`` should not pay."""

    def __init__(self, stderr: bool) -> None:
        object.__setattr__(self, "_stderr", stderr)
        object.__setattr__(self, "_console", None)

    def get(self) -> "Console":
        if self._console is None:
            from rich.console import Console

            # soft_wrap: long paths and ids are never broken by inserted newlines.
            object.__setattr__(self, "_console", Console(stderr=self._stderr, soft_wrap=True))
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.get(), name, value)


console = _LazyConsole(stderr=False)
errors = _LazyConsole(stderr=True)


class Output:
    """Where a command's words go: results to standard output (as JSON with ``--json``),
    notes and progress to standard error unless ``--quiet`` (or ``--json``)."""

    def __init__(self, quiet: bool = False, as_json: bool = False) -> None:
        self.quiet = quiet or as_json
        self.as_json = as_json

    def note(self, message: str) -> None:
        if not self.quiet:
            errors.print(message, markup=False, highlight=False)

    def result(self, value: Any, text: str | None = None) -> None:
        """``value`` as JSON with ``--json``; otherwise ``text`` (when there is any)."""
        if self.as_json:
            print(json.dumps(value, ensure_ascii=False, default=str))
        elif text is not None:
            print(text)


def settings_with(**overrides) -> "Settings":
    from seedbed.settings import Settings

    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def open_database(database_url: str | None) -> "Database":
    """The configured database, migrated to the newest schema."""
    from seedbed.storage import migrate
    from seedbed.storage.database import Database

    database = Database(settings_with(database_url=database_url).database_url)
    migrate.upgrade(database)
    return database


def fail(error: "SeedbedError | str", code: int = 1) -> None:
    message = error if isinstance(error, str) else error.message
    errors.print(f"[red]error:[/red] {_escaped(message)}", highlight=False)
    raise typer.Exit(code=code)


def _escaped(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    """A table on a terminal; tab-separated lines when piped, so that ids and names
    arrive whole whatever the width, ready for ``cut`` or the next command."""
    if console.is_terminal:
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    for row in [columns, *rows]:
        print("\t".join(row))


def print_records(output: Output, columns: list[str], rows: list[list[str]]) -> None:
    """A listing: a table, or with ``--json`` a JSON array of objects keyed by column."""
    if output.as_json:
        output.result([dict(zip(columns, row, strict=True)) for row in rows])
    else:
        print_table(columns, rows)


def money(cost: float, free: bool) -> str:
    """A cost as people read it; nothing at all for a model that costs nothing."""
    return "" if free else f"${cost:.4f}"


def require_dataset_named(connection, caller, name: str):
    """The dataset a user named, or an error that names it and the workspace."""
    from seedbed.domain.errors import NotFound
    from seedbed.services import datasets

    try:
        return datasets.require_dataset_by_name(connection, caller, name)
    except NotFound:
        raise NotFound(f"dataset {name!r} not found in workspace {caller.workspace!r}") from None
