"""Dataset versions: list, look up, tag, describe, restore, diff."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import Dataset
from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.domain.versions import (
    LATEST,
    ChangeCounts,
    DatasetVersion,
    compare_snapshots,
    sequence_from_name,
)
from seedbed.services.context import Caller, utcnow
from seedbed.services.datasets import require_dataset
from seedbed.services.version_writer import VersionWriter
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.repositories.versions import VersionRepository


@dataclass
class VersionPage:
    content: list[DatasetVersion]
    page: int
    size: int
    total: int


@dataclass
class VersionDiff:
    from_version: str | None
    to_version: str
    changes: ChangeCounts
    unchanged: int


def resolve_version(connection: Connection, dataset: Dataset, reference: str) -> DatasetVersion:
    """A version by hash, tag, ``latest`` or name (``v3``)."""
    versions = VersionRepository(connection)
    found = versions.by_hash(dataset.id, reference) or versions.by_tag(dataset.id, reference)
    if found is None and reference == LATEST:
        found = versions.by_sequence(dataset.id, dataset.latest_version_sequence)
    if found is None and (sequence := sequence_from_name(reference)) is not None:
        found = versions.by_sequence(dataset.id, sequence)
    if found is None:
        raise NotFound(f"Dataset version not found: '{reference}'")
    return found


def list_versions(
    connection: Connection, caller: Caller, dataset_id: str, page: int, size: int
) -> VersionPage:
    dataset = require_dataset(connection, caller, dataset_id)
    content, total = VersionRepository(connection).page(dataset.id, page, size)
    return VersionPage(content, page, size, total)


def retrieve_version(
    connection: Connection, caller: Caller, dataset_id: str, version_name: str
) -> DatasetVersion:
    dataset = require_dataset(connection, caller, dataset_id)
    sequence = sequence_from_name(version_name)
    if sequence is None:
        raise InvalidInput(f"version name must look like 'v1', got {version_name!r}")
    version = VersionRepository(connection).by_sequence(dataset.id, sequence)
    if version is None:
        raise NotFound(f"Dataset version not found: '{version_name}'")
    return version


def _check_tag(tag: str) -> str:
    tag = (tag or "").strip()
    if not tag:
        raise InvalidInput("tag must not be blank")
    if len(tag) > 100:
        raise InvalidInput("tag must be at most 100 characters")
    if tag == LATEST:
        raise InvalidInput("'latest' is reserved: it always names the newest version")
    return tag


def _by_hash(connection: Connection, dataset_id: str, version_hash: str) -> DatasetVersion:
    version = VersionRepository(connection).by_hash(dataset_id, version_hash)
    if version is None:
        raise NotFound(f"Dataset version not found: '{version_hash}'")
    return version


def tag_version(
    connection: Connection, caller: Caller, dataset_id: str, version_hash: str, tag: str
) -> None:
    dataset = require_dataset(connection, caller, dataset_id, lock=True)
    version = _by_hash(connection, dataset.id, version_hash)
    add_tags(connection, dataset.id, version, [tag])


def add_tags(
    connection: Connection, dataset_id: str, version: DatasetVersion, tags: list[str]
) -> None:
    versions = VersionRepository(connection)
    for tag in dict.fromkeys(_check_tag(tag) for tag in tags):
        owner = versions.tag_owner(dataset_id, tag)
        if owner == version.id:
            continue
        if owner is not None:
            raise Conflict(f"Tag '{tag}' already exists on another version of this dataset")
        versions.add_tag(dataset_id, version.id, tag, utcnow())


def untag_version(
    connection: Connection, caller: Caller, dataset_id: str, version_hash: str, tag: str
) -> None:
    dataset = require_dataset(connection, caller, dataset_id, lock=True)
    version = _by_hash(connection, dataset.id, version_hash)
    VersionRepository(connection).remove_tag(dataset.id, version.id, tag)


def update_version(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    version_hash: str,
    change_description: str | None,
    tags_to_add: list[str] | None,
) -> DatasetVersion:
    dataset = require_dataset(connection, caller, dataset_id, lock=True)
    version = _by_hash(connection, dataset.id, version_hash)
    if change_description is not None:
        VersionRepository(connection).update_description(
            version.id, change_description, utcnow(), caller.user
        )
    add_tags(connection, dataset.id, version, tags_to_add or [])
    return _by_hash(connection, dataset.id, version_hash)


def restore_version(
    connection: Connection, caller: Caller, dataset_id: str, reference: str
) -> DatasetVersion:
    """A new version whose items are those of ``reference``; a no-op for the latest one."""
    dataset = require_dataset(connection, caller, dataset_id, lock=True)
    target = resolve_version(connection, dataset, reference)
    if target.is_latest:
        return target
    writer = VersionWriter(
        connection, caller, dataset, change_description=f"Restored from version {target.name}"
    )
    writer.reset_to(dataset.id, target)
    return writer.finish()


def diff_with_draft(connection: Connection, caller: Caller, dataset_id: str) -> VersionDiff:
    """The latest committed version against the current draft.

    Every write commits a version, so today the draft always equals the latest version;
    the comparison is still made on the rows, so it stays true if drafts ever diverge.
    """
    dataset = require_dataset(connection, caller, dataset_id)
    items = ItemRepository(connection)
    latest = VersionRepository(connection).by_sequence(dataset.id, dataset.latest_version_sequence)
    before = items.snapshot(dataset.id, latest.sequence) if latest else {}
    after = items.snapshot(dataset.id, None)
    changes, unchanged = compare_snapshots(
        {item_id: content for item_id, (_, content) in before.items()},
        {item_id: content for item_id, (_, content) in after.items()},
    )
    return VersionDiff(latest.version_hash if latest else None, "draft", changes, unchanged)


def carry_forward_source(
    connection: Connection, caller: Caller, dataset_id: str | None, version_id: str | None
) -> tuple[str, DatasetVersion] | None:
    """The (dataset, version) whose items a write starts from instead of the target's
    previous version (Opik's ``copy_from_dataset_id`` / ``copy_from_version_id``)."""
    if (dataset_id is None) != (version_id is None):
        raise InvalidInput("copy_from_dataset_id and copy_from_version_id go together")
    if dataset_id is None:
        return None
    source_dataset = require_dataset(connection, caller, dataset_id)
    version_id = ids.canonical_id(version_id, "copy_from_version_id")
    source = VersionRepository(connection).by_id(source_dataset.id, version_id)
    if source is None:
        raise NotFound(f"Dataset version not found: '{version_id}'")
    return source_dataset.id, source
