"""``seedbed datasets``: list, create, import and export datasets."""

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from seedbed.cli.common import (
    DatabaseUrlOption,
    WorkspaceOption,
    console,
    fail,
    open_database,
    print_table,
)
from seedbed.domain import imports
from seedbed.domain.errors import SeedbedError
from seedbed.domain.queries import DatasetQuery
from seedbed.services import datasets, items
from seedbed.services.context import Caller

app = typer.Typer(help="List, create, import and export datasets.", no_args_is_help=True)


@app.command("list")
def list_datasets(
    name: Annotated[
        str | None, typer.Option(help="Only datasets whose name contains this.")
    ] = None,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """List the datasets of a workspace, newest first."""
    database = open_database(database_url)
    rows: list[list[str]] = []
    with database.reading() as connection:
        page_number = 1
        while True:
            page = datasets.find_datasets(
                connection, Caller(workspace), page_number, 100, DatasetQuery(name=name)
            )
            for view in page.content:
                latest = view.latest_version
                rows.append(
                    [
                        view.dataset.name,
                        str(view.dataset.items_count),
                        latest.name if latest else "-",
                        view.dataset.last_updated_at.strftime("%Y-%m-%d %H:%M"),
                        view.dataset.id,
                    ]
                )
            if page_number * 100 >= page.total:
                break
            page_number += 1
    print_table(["name", "items", "latest version", "last updated", "id"], rows)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Name of the new dataset.")],
    description: Annotated[str | None, typer.Option(help="What the dataset is for.")] = None,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an empty dataset."""
    database = open_database(database_url)
    try:
        with database.writing() as connection:
            created = datasets.create_dataset(
                connection, Caller(workspace), name, description=description
            )
    except SeedbedError as error:
        fail(error)
    console.print(f"created dataset '{created.name}' ({created.id})")


@app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl, .json (array of objects) or .csv file.", exists=True, dir_okay=False
        ),
    ],
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="Dataset to add to; created if missing.")
    ],
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format", help="jsonl, json or csv [default: from the file name]", show_default=False
        ),
    ] = None,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add the rows of a file to a dataset, as one new version.

    In JSON and JSONL rows the keys id, source, description, tags, evaluators and
    execution_policy are the item's own fields; all other keys are its data. Rows with
    an id that already exists replace that item.
    """
    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        chosen = file_format or imports.detect_format(file.name)
        rows = imports.read_rows(file.read_text(encoding="utf-8-sig"), chosen)
        with database.writing() as connection:
            target = datasets.get_or_create_by_name(connection, caller, dataset)
            version = items.import_rows(connection, caller, target, rows)
    except SeedbedError as error:
        fail(error)
    if version is None:
        console.print(f"nothing new: every row of {file.name} is already in '{dataset}'")
        return
    changes = version.changes
    console.print(
        f"'{dataset}' is now at {version.name}: {changes.added} added, {changes.modified} modified, "
        f"{version.items_total} items in all"
    )


@app.command("export")
def export(
    dataset: Annotated[str, typer.Argument(help="Name of the dataset.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write [default: standard output].", show_default=False
        ),
    ] = None,
    file_format: Annotated[
        str, typer.Option("--format", help="jsonl (whole items) or csv (data only).")
    ] = "jsonl",
    version: Annotated[
        str | None,
        typer.Option(help="Version name (v3), hash or tag [default: latest].", show_default=False),
    ] = None,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write a dataset's items as JSONL or CSV."""
    if file_format not in ("jsonl", "csv"):
        fail(SeedbedError("--format must be jsonl or csv"))
    database = open_database(database_url)
    caller = Caller(workspace)
    written = 0
    try:
        with database.reading() as connection:
            target = datasets.require_dataset_by_name(connection, caller, dataset)
            columns = items.data_columns_of(
                connection, caller, target, version
            )  # checks the version too
            # One page of items at a time, so a dataset of any size exports in flat memory.
            pages = items.export_pages(connection, caller, target, version)
            with _opened(output) as out:
                if file_format == "csv":
                    out.write(imports.csv_text(columns, []))
                for page in pages:
                    if file_format == "csv":
                        out.write(
                            imports.csv_text(columns, (item.data for item in page), header=False)
                        )
                    else:
                        out.write(
                            "".join(
                                json.dumps(_jsonl_row(item), ensure_ascii=False) + "\n"
                                for item in page
                            )
                        )
                    written += len(page)
    except SeedbedError as error:
        fail(error)
    if output is not None:
        console.print(f"wrote {written} items to {output}")


@contextlib.contextmanager
def _opened(output: Path | None) -> Iterator[TextIO]:
    """The file to write, or standard output."""
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        yield file


def _jsonl_row(item) -> dict:
    """The flat row ``import`` reads back: data keys plus the item's own fields."""
    row = dict(item.data)
    row["id"] = item.id
    row["source"] = item.source
    for name in ("description", "evaluators", "execution_policy"):
        if getattr(item, name):
            row[name] = getattr(item, name)
    if item.tags:
        row["tags"] = item.tags
    return row
