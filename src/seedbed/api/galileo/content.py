"""Galileo's datasets and their content (rows) over seedbed's datasets and items.

- A Galileo dataset is a seedbed dataset; a row is an item whose ``data`` is the row's
  ``values_dict``; ``current_version_index`` is the latest version's sequence. Rows are
  listed oldest first (item ids are time-ordered) and ``index`` is a row's position.
- Galileo pages by offset (``starting_token``) and ``limit``, seedbed by page number.
- A content's ETag names the dataset's latest version; an edit sent with an ``If-Match``
  that names an older one is refused (:class:`StaleContent`, HTTP 412, as Galileo does).
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import Dataset
from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.domain.items import Item, ItemDraft
from seedbed.domain.queries import DatasetQuery, ItemQuery
from seedbed.services import datasets, items
from seedbed.services.context import Caller
from seedbed.services.datasets import DatasetView
from seedbed.services.item_changes import VersionChanges, apply_changes

OLDEST_FIRST = ItemQuery().sorted_by("id")

T = TypeVar("T")


class StaleContent(Conflict):
    """The client edited a version of the content that is no longer the latest."""

    status_code = 412


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
    return [column.name for column in items.columns(connection, dataset_id)]


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
