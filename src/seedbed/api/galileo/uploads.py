"""Galileo's dataset uploads: a file of rows (csv, json or jsonl) becomes a new dataset
with one version; a taken name can be suffixed instead of refused."""

import json
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import Dataset
from seedbed.domain.errors import Conflict, InvalidInput, Unprocessable
from seedbed.domain.imports import read_rows
from seedbed.domain.items import ItemDraft
from seedbed.services import datasets, items
from seedbed.services.context import Caller


def parse_rows(content: bytes, file_format: str) -> list[dict[str, Any]]:
    """A Galileo upload: every key of a row is data (no reserved keys, unlike Opik's
    import), and a row without values (the client sends ``{}`` for "no rows") is none."""
    if file_format == "feather":
        raise Unprocessable("feather files are not supported: upload csv, json or jsonl")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the dataset file is not UTF-8 text") from None
    if file_format == "csv":
        rows = [row["data"] for row in read_rows(text, "csv")] if text.strip() else []
    elif file_format == "jsonl":
        rows = [
            _json_row(line, f"line {number}")
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip()
        ]
    else:
        parsed = _json_value(text, "the file")
        if not isinstance(parsed, list):
            raise InvalidInput("a json dataset file must hold an array of objects")
        rows = [_object(row, f"element {number}") for number, row in enumerate(parsed)]
    return [row for row in rows if row]


def _json_value(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{where}: not valid JSON ({error.msg})") from None


def _json_row(line: str, where: str) -> dict[str, Any]:
    return _object(_json_value(line, where), where)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: each row must be a JSON object")
    return value


def create_dataset(
    connection: Connection,
    caller: Caller,
    name: str,
    rows: list[dict[str, Any]],
    append_suffix_if_duplicate: bool,
) -> Dataset:
    """A dataset holding ``rows`` (one version); with ``append_suffix_if_duplicate`` a
    taken name becomes "name (1)", "name (2)", … instead of a conflict."""
    candidates = [name] + (
        [f"{name} ({number})" for number in range(1, 1000)] if append_suffix_if_duplicate else []
    )
    for candidate in candidates:
        try:
            created = datasets.create_dataset(connection, caller, candidate)
            break
        except Conflict:
            if candidate == candidates[-1]:
                raise
    drafts = [ItemDraft(id=ids.new_id(), data=row) for row in rows]
    if drafts:
        items.upsert_items(connection, caller, drafts, dataset_id=created.id)
    return datasets.require_dataset(connection, caller, created.id)
