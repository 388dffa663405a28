"""SQL for dataset versions and their tags."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.versions import ChangeCounts, DatasetVersion
from seedbed.storage.tables import dataset_version_tags, dataset_versions


def _to_version(row, tags: list[str], latest_sequence: int | None) -> DatasetVersion:
    return DatasetVersion(
        id=row.id,
        dataset_id=row.dataset_id,
        sequence=row.sequence,
        version_hash=row.version_hash,
        digest=int(row.digest, 16),
        items_total=row.items_total,
        changes=ChangeCounts(row.items_added, row.items_modified, row.items_deleted),
        change_description=row.change_description,
        metadata=dict(row.metadata or {}),
        batch_group_id=row.batch_group_id,
        created_at=row.created_at,
        created_by=row.created_by,
        last_updated_at=row.last_updated_at,
        last_updated_by=row.last_updated_by,
        tags=tags,
        is_latest=latest_sequence is not None and row.sequence == latest_sequence,
        evaluators=row.evaluators,
        execution_policy=row.execution_policy,
    )


class VersionRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _tags_by_version(self, version_ids: list[str]) -> dict[str, list[str]]:
        if not version_ids:
            return {}
        rows = self.connection.execute(
            sa.select(dataset_version_tags.c.version_id, dataset_version_tags.c.tag)
            .where(dataset_version_tags.c.version_id.in_(version_ids))
            .order_by(dataset_version_tags.c.created_at, dataset_version_tags.c.tag)
        ).all()
        tags: dict[str, list[str]] = {}
        for row in rows:
            tags.setdefault(row.version_id, []).append(row.tag)
        return tags

    def _latest_sequence(self, dataset_id: str) -> int | None:
        return self.connection.execute(
            sa.select(sa.func.max(dataset_versions.c.sequence)).where(
                dataset_versions.c.dataset_id == dataset_id
            )
        ).scalar()

    def _one(self, *where) -> DatasetVersion | None:
        row = self.connection.execute(
            sa.select(dataset_versions).where(*where).order_by(dataset_versions.c.sequence.desc())
        ).first()
        if row is None:
            return None
        tags = self._tags_by_version([row.id]).get(row.id, [])
        return _to_version(row, tags, self._latest_sequence(row.dataset_id))

    def by_sequence(self, dataset_id: str, sequence: int) -> DatasetVersion | None:
        return self._one(
            dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.sequence == sequence
        )

    def latest_to_build_on(self, dataset_id: str, sequence: int) -> DatasetVersion | None:
        """The dataset's latest version (``sequence``, as the dataset's row says), in one
        statement and without its tags: what a writer needs to make the next version
        (digest, evaluators, execution policy). Writers of a dataset queue on its row lock,
        so each statement spared here is taken off every one of them."""
        row = self.connection.execute(
            sa.select(dataset_versions).where(
                dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.sequence == sequence
            )
        ).first()
        return None if row is None else _to_version(row, [], sequence)

    def by_hash(self, dataset_id: str, version_hash: str) -> DatasetVersion | None:
        return self._one(
            dataset_versions.c.dataset_id == dataset_id,
            dataset_versions.c.version_hash == version_hash,
        )

    def by_id(self, dataset_id: str, version_id: str) -> DatasetVersion | None:
        return self._one(
            dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.id == version_id
        )

    def by_tag(self, dataset_id: str, tag: str) -> DatasetVersion | None:
        version_id = self.connection.execute(
            sa.select(dataset_version_tags.c.version_id).where(
                dataset_version_tags.c.dataset_id == dataset_id, dataset_version_tags.c.tag == tag
            )
        ).scalar()
        return self.by_id(dataset_id, version_id) if version_id else None

    def by_batch_group(self, dataset_id: str, batch_group_id: str) -> DatasetVersion | None:
        return self._one(
            dataset_versions.c.dataset_id == dataset_id,
            dataset_versions.c.batch_group_id == batch_group_id,
        )

    def page(self, dataset_id: str, page: int, size: int) -> tuple[list[DatasetVersion], int]:
        total = self.connection.execute(
            sa.select(sa.func.count()).where(dataset_versions.c.dataset_id == dataset_id)
        ).scalar_one()
        rows = self.connection.execute(
            sa.select(dataset_versions)
            .where(dataset_versions.c.dataset_id == dataset_id)
            .order_by(dataset_versions.c.sequence.desc())
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        tags = self._tags_by_version([row.id for row in rows])
        latest = self._latest_sequence(dataset_id)
        return [_to_version(row, tags.get(row.id, []), latest) for row in rows], total

    def latest_for(self, dataset_ids: list[str]) -> dict[str, DatasetVersion]:
        """The newest version of each dataset, for listings."""
        if not dataset_ids:
            return {}
        newest = (
            sa.select(
                dataset_versions.c.dataset_id,
                sa.func.max(dataset_versions.c.sequence).label("sequence"),
            )
            .where(dataset_versions.c.dataset_id.in_(dataset_ids))
            .group_by(dataset_versions.c.dataset_id)
            .subquery()
        )
        rows = self.connection.execute(
            sa.select(dataset_versions).join(
                newest,
                sa.and_(
                    dataset_versions.c.dataset_id == newest.c.dataset_id,
                    dataset_versions.c.sequence == newest.c.sequence,
                ),
            )
        ).all()
        tags = self._tags_by_version([row.id for row in rows])
        return {
            row.dataset_id: _to_version(row, tags.get(row.id, []), row.sequence) for row in rows
        }

    def insert(self, version: DatasetVersion) -> None:
        self.connection.execute(
            dataset_versions.insert().values(
                id=version.id,
                dataset_id=version.dataset_id,
                sequence=version.sequence,
                version_hash=version.version_hash,
                digest=f"{version.digest:032x}",
                items_total=version.items_total,
                items_added=version.changes.added,
                items_modified=version.changes.modified,
                items_deleted=version.changes.deleted,
                change_description=version.change_description,
                metadata=version.metadata,
                batch_group_id=version.batch_group_id,
                evaluators=version.evaluators,
                execution_policy=version.execution_policy,
                created_at=version.created_at,
                created_by=version.created_by,
                last_updated_at=version.last_updated_at,
                last_updated_by=version.last_updated_by,
            )
        )

    def save_contents(self, version: DatasetVersion) -> None:
        """Store what a write changed in a version: counts, digest, hash, settings."""
        self.connection.execute(
            dataset_versions.update()
            .where(dataset_versions.c.id == version.id)
            .values(
                version_hash=version.version_hash,
                digest=f"{version.digest:032x}",
                items_total=version.items_total,
                items_added=version.changes.added,
                items_modified=version.changes.modified,
                items_deleted=version.changes.deleted,
                change_description=version.change_description,
                metadata=version.metadata,
                evaluators=version.evaluators,
                execution_policy=version.execution_policy,
                last_updated_at=version.last_updated_at,
                last_updated_by=version.last_updated_by,
            )
        )

    def update_description(
        self, version_id: str, description: str, when: dt.datetime, by: str
    ) -> None:
        self.connection.execute(
            dataset_versions.update()
            .where(dataset_versions.c.id == version_id)
            .values(change_description=description, last_updated_at=when, last_updated_by=by)
        )

    def tag_owner(self, dataset_id: str, tag: str) -> str | None:
        return self.connection.execute(
            sa.select(dataset_version_tags.c.version_id).where(
                dataset_version_tags.c.dataset_id == dataset_id, dataset_version_tags.c.tag == tag
            )
        ).scalar()

    def add_tag(self, dataset_id: str, version_id: str, tag: str, when: dt.datetime) -> None:
        self.connection.execute(
            dataset_version_tags.insert().values(
                dataset_id=dataset_id, version_id=version_id, tag=tag, created_at=when
            )
        )

    def remove_tag(self, dataset_id: str, version_id: str, tag: str) -> int:
        return self.connection.execute(
            dataset_version_tags.delete().where(
                dataset_version_tags.c.dataset_id == dataset_id,
                dataset_version_tags.c.version_id == version_id,
                dataset_version_tags.c.tag == tag,
            )
        ).rowcount
