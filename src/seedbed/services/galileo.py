"""Galileo's view of seedbed: the rules behind the Galileo-compatible surface that are not
HTTP.

- A Galileo dataset is a seedbed dataset; a row is an item whose ``data`` is the row's
  ``values_dict``; ``current_version_index`` is the latest version's sequence. Rows are
  listed oldest first (item ids are time-ordered) and ``index`` is a row's position.
- A content's ETag names the dataset's latest version; an edit sent with an ``If-Match``
  that names an older one is refused (:class:`StaleContent`, HTTP 412, as Galileo does).
- ``extend`` (a generation job writing a new dataset) is :mod:`seedbed.services.galileo_extend`.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import Dataset
from seedbed.domain.errors import Conflict, InvalidInput, NotFound, Unauthorized, Unprocessable
from seedbed.domain.imports import read_rows
from seedbed.domain.items import Item, ItemDraft
from seedbed.domain.keys import hash_secret
from seedbed.domain.queries import DatasetQuery, ItemQuery
from seedbed.services import datasets, items, keys
from seedbed.services.context import Caller
from seedbed.services.datasets import DatasetView
from seedbed.services.item_changes import VersionChanges, apply_changes
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.repositories.keys import KeyRepository

OLDEST_FIRST = ItemQuery().sorted_by("id")

T = TypeVar("T")


class StaleContent(Conflict):
    """The client edited a version of the content that is no longer the latest."""

    status_code = 412


# -- users ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GalileoUser:
    id: str  # a UUID version 4, which the client insists on
    email: str
    name: str


def galileo_user(workspace: str, name: str) -> GalileoUser:
    """Galileo names users by UUID and e-mail; seedbed by name within a workspace. The id
    is derived from both, so the same user always has the same id."""
    digest = hashlib.sha256(f"{workspace}\x00{name}".encode()).digest()
    local_part = re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-.") or "user"
    return GalileoUser(
        str(uuid.UUID(bytes=digest[:16], version=4)), f"{local_part}@seedbed.local", name
    )


@dataclass(frozen=True)
class TokenSubject:
    """Whom a login token speaks for; ``key_id`` is None in local mode (no keys)."""

    workspace: str
    user: str
    key_id: str | None = None


def subject_for_api_key(connection: Connection, secret: str) -> TokenSubject:
    caller = keys.authenticate(connection, secret, None)
    key = KeyRepository(connection).by_secret_hash(hash_secret(secret))
    return TokenSubject(caller.workspace, caller.user, key.id)


def caller_for_subject(connection: Connection, subject: TokenSubject) -> Caller:
    """The caller a token speaks for, as long as its key is still valid: revoking a key
    ends the tokens it was exchanged for."""
    key = next((key for key in keys.list_keys(connection) if key.id == subject.key_id), None)
    if key is None or key.revoked_at is not None or subject.workspace not in key.workspaces:
        raise Unauthorized("The API key this token was issued for is no longer valid: log in again")
    return Caller(workspace=subject.workspace, user=key.name)


# -- datasets and their content ------------------------------------------------------------


def _window(
    fetch: Callable[[int], tuple[list[T], int]], offset: int, limit: int
) -> tuple[list[T], int]:
    """Galileo pages by offset (``starting_token``) and ``limit``; the services page by
    page number. The rows wanted lie on at most two pages of ``limit`` rows."""
    first_page, skip = divmod(offset, limit)
    found, total = fetch(first_page + 1)
    window = found[skip:]
    if skip and len(found) == limit:
        following, _ = fetch(first_page + 2)
        window += following[:skip]
    return window, total


def dataset_columns(connection: Connection, dataset_id: str) -> list[str]:
    return [column.name for column in ItemRepository(connection).columns(dataset_id)]


@dataclass(frozen=True)
class DatasetFilters:
    """Galileo's dataset query, as the dataset service's."""

    query: DatasetQuery = DatasetQuery()
    matches_nothing: bool = False  # e.g. "draft = true": seedbed has no drafts


def find_datasets(
    connection: Connection,
    caller: Caller,
    offset: int,
    limit: int,
    query: DatasetFilters = DatasetFilters(),
) -> tuple[list[DatasetView], int]:
    if query.matches_nothing:
        return [], 0

    def fetch(page: int) -> tuple[list[DatasetView], int]:
        found = datasets.find_datasets(connection, caller, page, limit, query.query)
        return found.content, found.total

    return _window(fetch, offset, limit)


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


def content_etag(dataset: Dataset) -> str:
    """Names the dataset's latest version: it changes with every change of content."""
    return str(uuid.uuid5(uuid.UUID(dataset.id), f"v{dataset.latest_version_sequence}"))


def _etag_matches(if_match: str, current: str) -> bool:
    tags = [tag.strip() for tag in if_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/").strip('"') == current for tag in tags)


@dataclass(frozen=True)
class ContentPage:
    dataset: Dataset
    rows: list[Item]
    starting_token: int
    limit: int
    total: int
    column_names: list[str]

    @property
    def next_starting_token(self) -> int | None:
        following = self.starting_token + len(self.rows)
        return following if self.rows and following < self.total else None


def read_content(
    connection: Connection, caller: Caller, dataset_id: str, starting_token: int, limit: int
) -> ContentPage:
    dataset = datasets.require_dataset(connection, caller, dataset_id)

    def fetch(page: int) -> tuple[list[Item], int]:
        found = items.list_items(connection, caller, dataset.id, page, limit, OLDEST_FIRST)
        return found.content, found.total

    rows, total = _window(fetch, starting_token, limit)
    return ContentPage(
        dataset, rows, starting_token, limit, total, dataset_columns(connection, dataset.id)
    )


@dataclass(frozen=True)
class RowEdit:
    """One of Galileo's content edits that seedbed applies: append, update or delete a row."""

    kind: str  # "append_row", "update_row" or "delete_row"
    row_id: str | None = None
    values: dict[str, Any] | None = None


def edit_content(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    edits: Sequence[RowEdit],
    if_match: str | None,
) -> str:
    """All the edits as one new version; returns the new ETag. With ``If-Match``, only if
    it names the latest version (checked under the dataset's lock)."""
    dataset = datasets.require_dataset(connection, caller, dataset_id, lock=True)
    if if_match is not None and not _etag_matches(if_match, content_etag(dataset)):
        raise StaleContent(
            "The dataset changed since its content was read (ETag mismatch): read it again"
        )
    changes = VersionChanges(change_description="Edited through the Galileo API")
    for edit in edits:
        if edit.kind == "append_row":
            changes.added.append(
                ItemDraft(id=edit.row_id or ids.new_id(), data=dict(edit.values or {}))
            )
        elif edit.kind == "update_row":
            current = _row(connection, caller, dataset, edit.row_id)
            changes.edited.append(
                {"id": current.id, "data": {**current.data, **(edit.values or {})}}
            )
        else:
            changes.deleted.append(_row(connection, caller, dataset, edit.row_id).id)
    apply_changes(connection, caller, dataset.id, changes, override=True)
    return content_etag(datasets.require_dataset(connection, caller, dataset.id))


def _row(connection: Connection, caller: Caller, dataset: Dataset, row_id: str | None) -> Item:
    try:
        found = items.get_item(connection, caller, row_id or "")
    except (NotFound, InvalidInput):
        found = None
    if found is None or found.dataset_id != dataset.id:
        raise NotFound(f"Row not found in this dataset: {row_id}")
    return found


# -- extend: synthetic rows in a new dataset -----------------------------------------------
