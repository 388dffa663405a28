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
    JsonOption,
    Output,
    QuietOption,
    WorkspaceOption,
    command_group,
    fail,
    open_database,
    print_records,
    require_dataset_named,
)

app = command_group("List, create, import and export datasets.")

EXPORT_FORMATS = ("jsonl", "csv", "parquet", "hf")
ORDERS = ("insertion", "newest")
COLUMNAR_OWN_FIELDS = ("id", "source", "tags", "description", "evaluators", "execution_policy")


@app.command("list")
def list_datasets(
    name: Annotated[
        str | None, typer.Option(help="Only datasets whose name contains this.")
    ] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """List the datasets of a workspace, newest first."""
    from seedbed.domain.queries import DatasetQuery
    from seedbed.services import datasets
    from seedbed.services.context import Caller

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
    print_records(
        Output(as_json=as_json), ["name", "items", "latest version", "last updated", "id"], rows
    )


@app.command("create")
def create(
    name: Annotated[
        str, typer.Argument(help="Name of the new dataset.", metavar="NAME", show_default=False)
    ],
    description: Annotated[str | None, typer.Option(help="What the dataset is for.")] = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an empty dataset."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.services import datasets
    from seedbed.services.context import Caller

    out = Output(quiet, as_json)
    database = open_database(database_url)
    try:
        with database.writing() as connection:
            created = datasets.create_dataset(
                connection, Caller(workspace), name, description=description
            )
    except SeedbedError as error:
        fail(error)
    out.result({"name": created.name, "id": created.id})
    out.note(f"created dataset '{created.name}' in workspace '{workspace}'")


@app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl, .json (array of objects), .csv or .parquet file, or a Hugging "
            "Face datasets folder (save_to_disk, or the Hub's parquet files).",
            metavar="FILE",
            exists=True,
            show_default=False,
        ),
    ],
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="Dataset to add to; created if missing.")
    ],
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl, json, csv, parquet or hf (default: from the file name; a folder is hf).",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            help="Split of a Hugging Face folder to import (default: its only split, or train).",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add the rows of a file to a dataset as one new version.

    The file is read a batch at a time, so any size takes flat memory.
    The keys id, source, description, tags, evaluators and execution_policy of JSON,
    JSONL, Parquet and Hugging Face rows are the item's own fields; all other keys are
    its data. Rows with an id that already exists replace that item.
    """
    from seedbed.domain.errors import SeedbedError
    from seedbed.services import datasets, items
    from seedbed.services.context import Caller
    from seedbed.services.item_files import read_item_rows

    out = Output(quiet, as_json)
    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        rows = read_item_rows(file, file_format, split)
        with database.writing() as connection:
            target = datasets.get_or_create_by_name(connection, caller, dataset)
            version = items.import_rows(connection, caller, target, rows)
    except SeedbedError as error:
        fail(error)
    if version is None:
        out.result({"dataset": dataset, "version": None, "added": 0, "modified": 0})
        out.note(f"nothing new: every row of {file.name} is already in '{dataset}'")
        return
    changes = version.changes
    out.result(
        {
            "dataset": dataset,
            "version": version.name,
            "added": changes.added,
            "modified": changes.modified,
            "items": version.items_total,
        }
    )
    out.note(
        f"'{dataset}' is now at {version.name}: {changes.added} added, {changes.modified} modified, "
        f"{version.items_total} items in all"
    )


@app.command("export")
def export(
    dataset: Annotated[
        str, typer.Argument(help="Name of the dataset.", metavar="DATASET", show_default=False)
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File (a folder for hf) to write (default: standard output).",
            show_default=False,
        ),
    ] = None,
    file_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="jsonl (whole items), csv (data only), parquet or hf (a Hugging Face "
            "save_to_disk folder); parquet and hf need --output.",
        ),
    ] = "jsonl",
    order: Annotated[
        str,
        typer.Option(help="insertion (the order items were added in) or newest (newest first)."),
    ] = "insertion",
    version: Annotated[
        str | None,
        typer.Option(help="Version name (v3), hash or tag (default: latest).", show_default=False),
    ] = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write a dataset's items to a file or to standard output.

    Items are read a page at a time, so any size takes flat memory."""
    from seedbed.domain.errors import SeedbedError

    out = Output(quiet, as_json)
    if as_json and output is None:
        fail(
            "--json reports on a file written with --output; without it the items are the output", 2
        )
    if file_format not in EXPORT_FORMATS:
        fail(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {file_format!r}", 2)
    if order not in ORDERS:
        fail(f"--order must be one of {', '.join(ORDERS)}, not {order!r}", 2)
    if file_format in ("parquet", "hf") and output is None:
        fail(f"--format {file_format} writes a file: name it with --output", 2)
    database = open_database(database_url)
    try:
        with database.reading() as connection:
            written = _export(
                connection, workspace, dataset, version, output, file_format, order == "insertion"
            )
    except SeedbedError as error:
        fail(error)
    if output is not None:
        out.result(
            {"dataset": dataset, "format": file_format, "items": written, "output": str(output)}
        )
        out.note(f"wrote {written} items of '{dataset}' to {output}")


def _export(connection, workspace, name, version, output, file_format, oldest_first) -> int:
    from seedbed.domain import imports
    from seedbed.services import items
    from seedbed.services.context import Caller

    caller = Caller(workspace)
    target = require_dataset_named(connection, caller, name)
    # Checks the version too, before anything is written.
    columns = items.data_columns_of(connection, caller, target, version, oldest_first)
    pages = items.export_pages(connection, caller, target, version, oldest_first)
    if file_format in ("parquet", "hf"):
        return _export_columnar(pages, columns, output, file_format)
    written = 0
    with _opened(output) as out:
        if file_format == "csv":
            out.write(imports.csv_text(columns, []))
        for page in pages:
            if file_format == "csv":
                out.write(imports.csv_text(columns, (item.data for item in page), header=False))
            else:
                out.write(
                    "".join(json.dumps(_flat_row(item), ensure_ascii=False) + "\n" for item in page)
                )
            written += len(page)
    return written


def _export_columnar(pages, columns: list[str], output: Path, file_format: str) -> int:
    from seedbed.services.item_files import ColumnarWriter

    writer = ColumnarWriter(output, file_format)
    for page in pages:
        writer.write([_columnar_row(item, columns) for item in page])
    writer.close([*columns, *COLUMNAR_OWN_FIELDS])
    return writer.rows


@contextlib.contextmanager
def _opened(output: Path | None) -> Iterator[TextIO]:
    """The file to write, or standard output."""
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        yield file


def _flat_row(item) -> dict:
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


def _columnar_row(item, columns: list[str]) -> dict:
    """In a columnar file every row has every column: each data key of the dataset, then
    the item's own fields (empty ones as nulls, which import ignores)."""
    row = {column: item.data.get(column) for column in columns}
    row.update({name: getattr(item, name) for name in COLUMNAR_OWN_FIELDS})
    row["tags"] = list(item.tags)
    return row
