"""Turns item changes into versions.

Every committed change set is a new immutable version, except that writes sharing a
``batch_group_id`` land in one version (the Opik client uploads one insert as many
batches, in parallel, under one group id). Nothing is copied per version: a changed item
closes its old row at the new version and opens a new one.
"""

from collections import Counter
from dataclasses import replace

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import Dataset
from seedbed.domain.items import ItemDraft, data_columns
from seedbed.domain.versions import (
    ChangeCounts,
    DatasetVersion,
    combine_digest,
    compare_snapshots,
    item_digest,
    version_hash,
)
from seedbed.services.context import Caller, utcnow
from seedbed.storage.repositories.datasets import DatasetRepository
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.repositories.versions import VersionRepository


class VersionWriter:
    def __init__(
        self,
        connection: Connection,
        caller: Caller,
        dataset: Dataset,
        batch_group_id: str | None = None,
        change_description: str | None = None,
    ) -> None:
        self.caller = caller
        self.dataset = dataset
        self.batch_group_id = batch_group_id
        self.change_description = change_description
        self.now = utcnow()
        self.items = ItemRepository(connection)
        self.versions = VersionRepository(connection)
        self.datasets = DatasetRepository(connection)
        self.version: DatasetVersion | None = None
        self.continues_group = False  # writing into the version an earlier batch of the group made
        self._items_before = dataset.items_count
        self.column_changes: Counter = Counter()  # (key, type) -> change in live items having it
        self._recount_columns = False

    # -- the version being written ---------------------------------------------------------

    def open(self) -> DatasetVersion:
        """The version being written, created now if no change has created it yet."""
        return self._open()

    def _open(self) -> DatasetVersion:
        if self.version is not None:
            return self.version
        latest = self.dataset.latest_version_sequence
        if self.batch_group_id:
            grouped = self.versions.by_batch_group(self.dataset.id, self.batch_group_id)
            if grouped is not None and grouped.sequence == latest:
                self.version, self.continues_group = grouped, True
                return grouped
        previous = self.versions.latest_to_build_on(self.dataset.id, latest) if latest else None
        digest = previous.digest if previous else 0
        sequence = latest + 1
        self.version = DatasetVersion(
            id=ids.new_id(),
            dataset_id=self.dataset.id,
            sequence=sequence,
            version_hash=version_hash(self.dataset.id, sequence, digest),
            digest=digest,
            items_total=self.dataset.items_count,
            changes=ChangeCounts(),
            change_description=self.change_description,
            metadata={},
            batch_group_id=self.batch_group_id,
            created_at=self.now,
            created_by=self.caller.user,
            last_updated_at=self.now,
            last_updated_by=self.caller.user,
            evaluators=previous.evaluators if previous else None,
            execution_policy=previous.execution_policy if previous else None,
        )
        self.versions.insert(self.version)
        return self.version

    def finish(self) -> DatasetVersion | None:
        """Store the version's counts and hash; ``None`` when nothing changed."""
        version = self.version
        if version is None:
            return None
        if self._recount_columns:
            self.items.recount_columns(self.dataset.id)
        else:
            self.items.adjust_columns(self.dataset.id, self.column_changes)
        version.version_hash = version_hash(self.dataset.id, version.sequence, version.digest)
        version.last_updated_at = self.now
        version.last_updated_by = self.caller.user
        self.versions.save_contents(version)
        self.datasets.touch(
            self.dataset.id, version.items_total, version.sequence, self.now, self.caller.user
        )
        self.dataset = replace(
            self.dataset, items_count=version.items_total, latest_version_sequence=version.sequence
        )
        version.is_latest = True
        if _crossed_a_doubling(self._items_before, version.items_total):
            self.items.refresh_statistics()
        return version

    # -- changes ---------------------------------------------------------------------------

    def _row(
        self, draft: ItemDraft, content_hash: str, sequence: int, created_at, created_by
    ) -> dict:
        return {
            "dataset_id": self.dataset.id,
            "item_id": draft.id,
            "valid_from": sequence,
            "valid_to": None,
            "source": draft.source,
            "trace_id": draft.trace_id,
            "span_id": draft.span_id,
            "data": draft.data,
            "tags": list(draft.tags or []),
            "description": draft.description,
            "evaluators": draft.evaluators,
            "execution_policy": draft.execution_policy,
            "content_hash": content_hash,
            "created_at": created_at,
            "created_by": created_by,
            "last_updated_at": self.now,
            "last_updated_by": self.caller.user,
        }

    def upsert(self, drafts: list[ItemDraft]) -> None:
        """Insert new items and replace changed ones; identical items change nothing."""
        latest_by_id = {draft.id: draft for draft in drafts}  # a repeated id: the last one wins
        live = self.items.live_rows(self.dataset.id, latest_by_id)
        new_rows: list[dict] = []
        replaced_rows: list[dict] = []
        closed: list[int] = []
        for draft in latest_by_id.values():
            content_hash = draft.content_hash()
            old = live.get(draft.id)
            if old is not None and old.content_hash == content_hash:
                continue
            version = self._open()
            created_at, created_by = (
                (old.created_at, old.created_by) if old else (self.now, self.caller.user)
            )
            row = self._row(draft, content_hash, version.sequence, created_at, created_by)
            new_digest = item_digest(draft.id, content_hash)
            self.column_changes.update(data_columns(draft.data))
            if old is None:
                new_rows.append(row)
                version.changes.added += 1
                version.items_total += 1
                version.digest = combine_digest(version.digest, added=new_digest)
                continue
            self.column_changes.subtract(data_columns(old.data))
            old_digest = item_digest(draft.id, old.content_hash)
            version.digest = combine_digest(version.digest, added=new_digest, removed=old_digest)
            if old.valid_from == version.sequence:
                # Written earlier in this same version: overwrite, it is no one's history.
                replaced_rows.append({**row, "target_row_id": old.row_id})
            else:
                closed.append(old.row_id)
                new_rows.append(row)
                version.changes.modified += 1
        if self.version is None:
            return
        self.items.close_rows(closed, self.version.sequence)
        self.items.replace_rows(replaced_rows)
        self.items.insert_rows(new_rows)

    def delete(self, item_ids: list[str]) -> None:
        live = self.items.live_rows(self.dataset.id, item_ids)
        if not live:
            return
        version = self._open()
        closed: list[int] = []
        removed: list[int] = []
        for item_id, old in live.items():
            self.column_changes.subtract(data_columns(old.data))
            version.digest = combine_digest(
                version.digest, removed=item_digest(item_id, old.content_hash)
            )
            version.items_total -= 1
            if old.valid_from == version.sequence:
                removed.append(old.row_id)
                if self.items.existed_before(self.dataset.id, item_id, version.sequence):
                    version.changes.modified -= 1
                    version.changes.deleted += 1
                else:
                    version.changes.added -= 1
            else:
                closed.append(old.row_id)
                version.changes.deleted += 1
        self.items.close_rows(closed, version.sequence)
        self.items.delete_rows(removed)

    def reset_to(self, source_dataset_id: str, source: DatasetVersion) -> None:
        """Make the new version's items those of ``source``, a version of this dataset
        (a restore) or of another one (carrying its rows forward)."""
        wanted = self.items.snapshot(source_dataset_id, source.sequence)
        current = self.items.snapshot(self.dataset.id, None)
        wanted_content = {item_id: content for item_id, (_, content) in wanted.items()}
        current_content = {item_id: content for item_id, (_, content) in current.items()}
        version = self._open()
        self.items.close_rows(
            [
                row
                for item_id, (row, content) in current.items()
                if wanted_content.get(item_id) != content
            ],
            version.sequence,
        )
        self.items.copy_rows_into(
            [
                row
                for item_id, (row, content) in wanted.items()
                if current_content.get(item_id) != content
            ],
            self.dataset.id,
            version.sequence,
        )
        version.changes, _ = compare_snapshots(current_content, wanted_content)
        version.digest = source.digest
        version.items_total = len(wanted)
        self._recount_columns = True


def _crossed_a_doubling(before: int, after: int, smallest: int = 2048) -> bool:
    """Whether a dataset grew past a power of two (from ``smallest`` on): the moments to
    refresh planner statistics, a logarithmic number of times however large it grows."""
    return after >= smallest and after.bit_length() > max(before, 1).bit_length()
