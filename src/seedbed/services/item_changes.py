"""Opik's "apply changes": one new version from a delta (items added, edited, deleted)
and the version's own settings, with optimistic concurrency on the base version."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import Conflict, NotFound
from seedbed.domain.items import ItemDraft
from seedbed.domain.versions import DatasetVersion
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset
from seedbed.services.items import edited_draft
from seedbed.services.version_writer import VersionWriter
from seedbed.services.versions import add_tags, carry_forward_source
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.repositories.versions import VersionRepository


@dataclass
class VersionChanges:
    base_version: str | None = None
    added: list[ItemDraft] = field(default_factory=list)
    edited: list[dict[str, Any]] = field(
        default_factory=list
    )  # each: "id" and the fields to change
    deleted: list[str] = field(default_factory=list)
    change_description: str | None = None
    evaluators: list[dict[str, Any]] | None = None
    execution_policy: dict[str, Any] | None = None
    clear_execution_policy: bool = False
    tags: list[str] | None = None
    metadata: dict[str, str] | None = None
    copy_from_dataset_id: str | None = None
    copy_from_version_id: str | None = None


def _check_base(
    versions: VersionRepository,
    dataset_id: str,
    latest: DatasetVersion | None,
    changes: VersionChanges,
    override: bool,
) -> None:
    base = ids.canonical_id(changes.base_version, "base_version") if changes.base_version else None
    if base and versions.by_id(dataset_id, base) is None:
        raise NotFound(f"Dataset version not found: '{base}'")
    if not override and base != (latest.id if latest else None):
        raise Conflict(
            "base_version is not the latest version of the dataset: read the latest version "
            "and apply the changes to it, or send override=true"
        )


def apply_changes(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    changes: VersionChanges,
    override: bool = False,
) -> DatasetVersion:
    """Always makes a new version (a change of settings alone is a version too)."""
    dataset = require_dataset(connection, caller, dataset_id, lock=True)
    versions = VersionRepository(connection)
    latest = (
        versions.by_sequence(dataset.id, dataset.latest_version_sequence)
        if dataset.latest_version_sequence
        else None
    )
    _check_base(versions, dataset.id, latest, changes, override)
    carry_forward = carry_forward_source(
        connection, caller, changes.copy_from_dataset_id, changes.copy_from_version_id
    )

    writer = VersionWriter(
        connection, caller, dataset, change_description=changes.change_description
    )
    version = writer.open()
    if carry_forward is not None:
        writer.reset_to(*carry_forward)
    writer.upsert(changes.added)
    if changes.edited:
        edited_ids = [ids.canonical_id(edit.get("id"), "edited item id") for edit in changes.edited]
        current = {
            item.id: item for item in ItemRepository(connection).live_items(dataset.id, edited_ids)
        }
        missing = [item_id for item_id in edited_ids if item_id not in current]
        if missing:
            raise NotFound(f"Dataset item not found: '{missing[0]}'")
        writer.upsert(
            [
                edited_draft(current[item_id], edit)
                for item_id, edit in zip(edited_ids, changes.edited, strict=True)
            ]
        )
    writer.delete([ids.canonical_id(item_id, "deleted item id") for item_id in changes.deleted])

    if changes.evaluators is not None:
        version.evaluators = changes.evaluators
    if changes.execution_policy is not None:
        version.execution_policy = changes.execution_policy
    elif changes.clear_execution_policy:
        version.execution_policy = None
    if changes.metadata is not None:
        version.metadata = changes.metadata
    finished = writer.finish()
    if changes.tags:
        add_tags(connection, dataset.id, finished, changes.tags)
    return versions.by_id(dataset.id, finished.id)
