"""Dataset items: upsert, read (paged, streamed, by version), patch, delete, import."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import Dataset
from seedbed.domain.errors import InvalidInput, NotFound
from seedbed.domain.filters import Filter
from seedbed.domain.items import Column, Item, ItemDraft
from seedbed.domain.queries import ItemQuery
from seedbed.domain.versions import DatasetVersion
from seedbed.services.context import Caller
from seedbed.services.datasets import (
    get_or_create_by_name,
    require_dataset,
    require_dataset_by_name,
)
from seedbed.services.version_writer import VersionWriter
from seedbed.services.versions import carry_forward_source, resolve_version
from seedbed.storage.repositories.items import ItemRepository

MAX_STREAM_LIMIT = 2000
IMPORT_BATCH_SIZE = 1000


@dataclass
class ItemPage:
    content: list[Item]
    page: int
    size: int
    total: int
    columns: list[Column]


def draft_from_fields(fields: dict[str, Any]) -> ItemDraft:
    """An item draft from client-supplied fields; a missing id gets a new one."""
    item_id = fields.get("id")
    return ItemDraft(
        id=ids.canonical_id(item_id, "item id") if item_id else ids.new_id(),
        data=fields.get("data"),
        source=fields.get("source") or "sdk",
        trace_id=ids.canonical_id(fields["trace_id"], "trace_id")
        if fields.get("trace_id")
        else None,
        span_id=ids.canonical_id(fields["span_id"], "span_id") if fields.get("span_id") else None,
        tags=fields.get("tags"),
        description=fields.get("description"),
        evaluators=fields.get("evaluators"),
        execution_policy=fields.get("execution_policy"),
    )


def edited_draft(current: Item, changes: dict[str, Any]) -> ItemDraft:
    """``current`` with the fields present in ``changes`` replaced (its id stays)."""
    return draft_from_fields(
        {**current.as_draft().__dict__, **{k: v for k, v in changes.items() if k != "id"}}
    )


def _target_dataset(
    connection: Connection, caller: Caller, dataset_id: str | None, dataset_name: str | None
) -> Dataset:
    if dataset_id:
        return require_dataset(connection, caller, dataset_id, lock=True)
    if dataset_name:
        found = get_or_create_by_name(connection, caller, dataset_name)
        return require_dataset(connection, caller, found.id, lock=True)
    raise InvalidInput("either dataset_id or dataset_name is required")


def upsert_items(
    connection: Connection,
    caller: Caller,
    drafts: list[ItemDraft],
    dataset_id: str | None = None,
    dataset_name: str | None = None,
    batch_group_id: str | None = None,
    copy_from_dataset_id: str | None = None,
    copy_from_version_id: str | None = None,
) -> DatasetVersion | None:
    """Insert or replace items by id. Returns the version written, or ``None`` if every
    item was already stored exactly as sent.

    With ``copy_from_*`` the new version starts from that dataset version's items rather
    than from this dataset's previous version (once per batch group).
    """
    dataset = _target_dataset(connection, caller, dataset_id, dataset_name)
    group = ids.canonical_id(batch_group_id, "batch_group_id") if batch_group_id else None
    carry_forward = carry_forward_source(
        connection, caller, copy_from_dataset_id, copy_from_version_id
    )
    writer = VersionWriter(connection, caller, dataset, batch_group_id=group)
    if carry_forward is not None:
        writer.open()
        if not writer.continues_group:
            writer.reset_to(*carry_forward)
    writer.upsert(drafts)
    return writer.finish()


def import_rows(
    connection: Connection, caller: Caller, dataset: Dataset, rows: Iterable[dict[str, Any]]
) -> DatasetVersion | None:
    """Add rows read from a file (see ``domain.imports``) as one new version.

    A row with an id replaces that item. A row without one is skipped when an item with
    the same content is already in the dataset (or earlier in the file), as the Opik
    client does on insert: importing the same file twice adds nothing.
    """
    dataset = require_dataset(connection, caller, dataset.id, lock=True)
    writer = VersionWriter(connection, caller, dataset)
    seen = ItemRepository(connection).live_content_hashes(dataset.id)
    batch: list[ItemDraft] = []
    for row in rows:
        draft = draft_from_fields(row)
        if not row.get("id"):
            content = draft.content_hash()
            if content in seen:
                continue
            seen.add(content)
        batch.append(draft)
        if len(batch) >= IMPORT_BATCH_SIZE:
            writer.upsert(batch)
            batch = []
    writer.upsert(batch)
    return writer.finish()


def delete_items(
    connection: Connection,
    caller: Caller,
    item_ids: list[str] | None = None,
    dataset_id: str | None = None,
    filters: Sequence[Filter] = (),
    batch_group_id: str | None = None,
) -> None:
    """Delete by ids, or every item of ``dataset_id`` matching ``filters`` (all when empty)."""
    group = ids.canonical_id(batch_group_id, "batch_group_id") if batch_group_id else None
    items = ItemRepository(connection)
    if item_ids:
        if filters:
            raise InvalidInput("give either item_ids or filters, not both")
        wanted = [ids.canonical_id(item_id, "item id") for item_id in item_ids]
        targets = [dataset_id] if dataset_id else items.datasets_of(caller.workspace, wanted)
        for target in targets:
            dataset = require_dataset(connection, caller, target, lock=True)
            writer = VersionWriter(connection, caller, dataset, batch_group_id=group)
            writer.delete(wanted)
            writer.finish()
        return
    if not dataset_id:
        raise InvalidInput("give item_ids, or dataset_id with filters")
    dataset = require_dataset(connection, caller, dataset_id, lock=True)
    matching = items.ids_matching(dataset.id, list(filters))
    writer = VersionWriter(connection, caller, dataset, batch_group_id=group)
    writer.delete(matching)
    writer.finish()


def columns(connection: Connection, dataset_id: str) -> list[Column]:
    """The keys of a dataset's items' data, with the types their values take."""
    return ItemRepository(connection).columns(dataset_id)


def get_item(connection: Connection, caller: Caller, item_id: str) -> Item:
    item = ItemRepository(connection).get_live(
        caller.workspace, ids.canonical_id(item_id, "item id")
    )
    if item is None:
        raise NotFound("Dataset item not found")
    return item


def patch_item(
    connection: Connection, caller: Caller, item_id: str, changes: dict[str, Any]
) -> None:
    """Replace only the fields given; the change is a new version."""
    current = get_item(connection, caller, item_id)
    draft = edited_draft(current, changes)
    dataset = require_dataset(connection, caller, current.dataset_id, lock=True)
    writer = VersionWriter(connection, caller, dataset)
    writer.upsert([draft])
    writer.finish()


def _version_sequence(connection: Connection, dataset: Dataset, version: str | None) -> int | None:
    if not version:
        return None
    return resolve_version(connection, dataset, version).sequence


def list_items(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    page: int = 1,
    size: int = 10,
    query: ItemQuery | None = None,
) -> ItemPage:
    """A page of a dataset's items matching ``query`` (all of them, as they are now,
    without one)."""
    query = query or ItemQuery()
    dataset = require_dataset(connection, caller, dataset_id)
    sequence = _version_sequence(connection, dataset, query.version)
    repository = ItemRepository(connection)
    content, total = repository.page(
        dataset.id, sequence, list(query.filters), query.sort, page, size
    )
    return ItemPage(content, page, size, total, repository.columns(dataset.id))


def stream_items(
    connection: Connection,
    caller: Caller,
    dataset_name: str,
    last_retrieved_id: str | None = None,
    limit: int | None = None,
    version: str | None = None,
    filters: Sequence[Filter] = (),
) -> list[Item]:
    """One page of the newest-first stream, continuing below ``last_retrieved_id``."""
    dataset = require_dataset_by_name(connection, caller, dataset_name)
    cursor = ids.canonical_id(last_retrieved_id, "last_retrieved_id") if last_retrieved_id else None
    limit = limit or MAX_STREAM_LIMIT
    if not 1 <= limit <= MAX_STREAM_LIMIT:
        raise InvalidInput(f"steam_limit must be between 1 and {MAX_STREAM_LIMIT}")
    return ItemRepository(connection).stream(
        dataset.id,
        _version_sequence(connection, dataset, version),
        list(filters),
        cursor,
        limit,
    )


def export_pages(
    connection: Connection,
    caller: Caller,
    dataset: Dataset,
    version: str | None = None,
    oldest_first: bool = False,
) -> Iterator[list[Item]]:
    """Every item of a dataset (or of one version), newest first (or in the order they
    were added), a page at a time: a reader holds one page, however large the dataset."""
    sequence = _version_sequence(connection, dataset, version)
    repository = ItemRepository(connection)
    cursor = None
    while True:
        if oldest_first:
            chunk = repository.stream_oldest_first(dataset.id, sequence, cursor, MAX_STREAM_LIMIT)
        else:
            chunk = repository.stream(dataset.id, sequence, [], cursor, MAX_STREAM_LIMIT)
        if chunk:
            yield chunk
        if len(chunk) < MAX_STREAM_LIMIT:
            return
        cursor = chunk[-1].id


def export_items(
    connection: Connection, caller: Caller, dataset: Dataset, version: str | None = None
) -> Iterator[Item]:
    """Every item of a dataset (or of one version), newest first, read in pages."""
    for page in export_pages(connection, caller, dataset, version):
        yield from page


def data_columns_of(
    connection: Connection,
    caller: Caller,
    dataset: Dataset,
    version: str | None = None,
    oldest_first: bool = False,
) -> list[str]:
    """Every key of the items' data (of the draft or of one version): the columns of a
    CSV export, in the order a reader going newest (or oldest) first meets them."""
    return ItemRepository(connection).data_keys(
        dataset.id, _version_sequence(connection, dataset, version), oldest_first
    )


@dataclass
class ItemUpdate:
    """One change applied to many items (Opik's batch update)."""

    data: dict[str, Any] | None = None  # merged into each item's data, key by key
    tags: list[str] | None = None  # replaces the tags (or adds to them with merge_tags)
    tags_to_add: list[str] | None = None
    tags_to_remove: list[str] | None = None
    evaluators: list[dict[str, Any]] | None = None
    execution_policy: dict[str, Any] | None = None
    clear_execution_policy: bool = False
    merge_tags: bool = False

    def apply(self, item: Item) -> ItemDraft:
        draft = item.as_draft()
        tags = list(draft.tags or [])
        if self.tags is not None:
            tags = tags + self.tags if self.merge_tags else list(self.tags)
        tags += self.tags_to_add or []
        removed = set(self.tags_to_remove or [])
        changes: dict[str, Any] = {
            "tags": [tag for tag in dict.fromkeys(tags) if tag not in removed]
        }
        if self.data is not None:
            changes["data"] = {**draft.data, **self.data}
        if self.evaluators is not None:
            changes["evaluators"] = self.evaluators
        if self.execution_policy is not None:
            changes["execution_policy"] = self.execution_policy
        if self.clear_execution_policy:
            changes["execution_policy"] = None
        return replace(draft, **changes)


def update_items(
    connection: Connection,
    caller: Caller,
    update: ItemUpdate,
    item_ids: list[str] | None = None,
    dataset_id: str | None = None,
    filters: Sequence[Filter] = (),
) -> None:
    """Apply one update to the given items, or to a dataset's items matching filters;
    each dataset touched gets one new version."""
    repository = ItemRepository(connection)
    if item_ids:
        wanted = [ids.canonical_id(item_id, "item id") for item_id in item_ids]
        targets = {target: wanted for target in repository.datasets_of(caller.workspace, wanted)}
    elif dataset_id:
        dataset = require_dataset(connection, caller, dataset_id)
        targets = {dataset.id: repository.ids_matching(dataset.id, list(filters))}
    else:
        raise InvalidInput("give ids, or dataset_id with filters")
    for target, target_ids in targets.items():
        dataset = require_dataset(connection, caller, target, lock=True)
        current = repository.live_items(dataset.id, target_ids)
        writer = VersionWriter(connection, caller, dataset)
        writer.upsert([update.apply(item) for item in current])
        writer.finish()
