"""Reading items from files: JSONL, JSON (an array of objects) and CSV, and the rules
shared with the columnar formats (Parquet, Hugging Face ``datasets`` folders) that
``services.item_files`` reads.

Reserved keys in JSON/JSONL/columnar rows (``id``, ``source``, ``description``, ``tags``,
``evaluators``, ``execution_policy``) become the item's own fields, as in Opik's
``from-json`` upload; every other key goes into ``data``. A CSV row is all data.
JSONL and CSV are read line by line, so a file of any size is read in flat memory.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from seedbed.domain.errors import InvalidInput

RESERVED_KEYS = ("id", "source", "description", "tags", "evaluators", "execution_policy")
TEXT_FORMATS = ("jsonl", "json", "csv")
# A Hugging Face ``datasets`` folder: save_to_disk's Arrow files, or the Hub's parquet files.
HF_FOLDER = "hf"
FORMATS = (*TEXT_FORMATS, "parquet", HF_FOLDER)


def detect_format(filename: str, is_folder: bool = False) -> str:
    if is_folder:
        return HF_FOLDER
    lowered = filename.lower()
    for name in ("jsonl", "ndjson"):
        if lowered.endswith("." + name):
            return "jsonl"
    for name in ("json", "csv", "parquet"):
        if lowered.endswith("." + name):
            return name
    raise InvalidInput(
        f"cannot tell the format of {filename!r}: use .jsonl, .json, .csv, .parquet "
        "or a Hugging Face datasets folder, or name the format with --format"
    )


def split_reserved(row: dict[str, Any]) -> dict[str, Any]:
    """Turn one flat row into item fields, with the remaining keys as ``data``."""
    fields = {key: row[key] for key in RESERVED_KEYS if row.get(key) is not None}
    fields["data"] = {key: value for key, value in row.items() if key not in RESERVED_KEYS}
    return fields


def read_rows(text: str, file_format: str) -> Iterator[dict[str, Any]]:
    # newline="": the csv module itself reads \r, \n and \r\n as line ends (and keeps
    # them inside quoted fields), as its documentation asks.
    return read_lines(io.StringIO(text, newline=""), file_format)


def read_lines(lines: Iterable[str], file_format: str) -> Iterator[dict[str, Any]]:
    """Rows of a text format, from its lines: an open file (opened with ``newline=""``)
    is read one line at a time."""
    if file_format == "jsonl":
        yield from _read_jsonl(lines)
    elif file_format == "json":
        yield from _read_json("".join(lines))
    elif file_format == "csv":
        yield from _read_csv(lines)
    else:
        raise InvalidInput(
            f"unknown format {file_format!r}; expected one of {', '.join(TEXT_FORMATS)}"
        )


def _read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise InvalidInput(f"line {number}: each line must be a JSON object")
        yield split_reserved(row)


def _read_json(text: str) -> Iterator[dict[str, Any]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(rows, list):
        raise InvalidInput("a JSON file must hold an array of objects")
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"element {number}: each element must be a JSON object")
        yield split_reserved(row)


def _read_csv(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(lines)
    try:
        if not reader.fieldnames:
            raise InvalidInput("the CSV file has no header row")
        for row in reader:
            if None in row:
                raise InvalidInput(f"line {reader.line_num}: more values than header columns")
            yield {"data": {key: value for key, value in row.items()}}
    except csv.Error as error:
        raise InvalidInput(f"line {reader.line_num}: the CSV file is malformed: {error}") from None


def csv_columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Every key of the rows, in the order they first appear."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def csv_text(columns: list[str], rows: Iterable[dict[str, Any]], header: bool = True) -> str:
    """Rows as CSV text under ``columns``; nested values are written as JSON text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: json.dumps(value) if isinstance(value, (dict, list)) else value
                for key, value in row.items()
            }
        )
    return out.getvalue()


def write_csv(rows: list[dict[str, Any]]) -> str:
    """Items' data as CSV, one column per key any row has."""
    return csv_text(csv_columns(rows), rows)
