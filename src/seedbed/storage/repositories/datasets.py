"""SQL for datasets."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.datasets import Dataset
from seedbed.domain.filters import Filter, Sort
from seedbed.storage import filtering
from seedbed.storage.repositories import experiment_rollups
from seedbed.storage.tables import datasets, experiments

_FILTER_COLUMNS = {
    "id": datasets.c.id,
    "name": datasets.c.name,
    "description": datasets.c.description,
    "tags": datasets.c.tags,
    "type": datasets.c.type,
    "created_at": datasets.c.created_at,
    "last_updated_at": datasets.c.last_updated_at,
    "created_by": datasets.c.created_by,
    "last_updated_by": datasets.c.last_updated_by,
    "dataset_items_count": datasets.c.items_count,
}


def _to_dataset(row) -> Dataset:
    return Dataset(
        id=row.id,
        workspace=row.workspace,
        name=row.name,
        description=row.description,
        type=row.type,
        visibility=row.visibility,
        tags=list(row.tags or []),
        project_id=row.project_id,
        items_count=row.items_count,
        latest_version_sequence=row.latest_version_sequence,
        created_at=row.created_at,
        created_by=row.created_by,
        last_updated_at=row.last_updated_at,
        last_updated_by=row.last_updated_by,
    )


class DatasetRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def insert(self, dataset: Dataset) -> None:
        self.connection.execute(
            datasets.insert().values(
                id=dataset.id,
                workspace=dataset.workspace,
                name=dataset.name,
                description=dataset.description,
                type=dataset.type,
                visibility=dataset.visibility,
                tags=dataset.tags,
                project_id=dataset.project_id,
                items_count=dataset.items_count,
                latest_version_sequence=dataset.latest_version_sequence,
                created_at=dataset.created_at,
                created_by=dataset.created_by,
                last_updated_at=dataset.last_updated_at,
                last_updated_by=dataset.last_updated_by,
            )
        )

    def get(self, workspace: str, dataset_id: str, lock: bool = False) -> Dataset | None:
        query = sa.select(datasets).where(
            datasets.c.workspace == workspace, datasets.c.id == dataset_id
        )
        if lock:
            # Serializes writers of one dataset on PostgreSQL; SQLite has one writer anyway.
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _to_dataset(row) if row else None

    def get_by_name(self, workspace: str, name: str) -> Dataset | None:
        row = self.connection.execute(
            sa.select(datasets).where(datasets.c.workspace == workspace, datasets.c.name == name)
        ).first()
        return _to_dataset(row) if row else None

    def exists_elsewhere(self, dataset_id: str) -> bool:
        """Whether an id is taken, in any workspace (ids are global primary keys)."""
        return (
            self.connection.execute(
                sa.select(sa.literal(1)).where(datasets.c.id == dataset_id)
            ).first()
            is not None
        )

    def find(
        self,
        workspace: str,
        page: int,
        size: int,
        name: str | None,
        filters: list[Filter],
        sort: Sort | None,
        project_id: str | None = None,
        include_unassigned: bool = False,
        with_experiments_only: bool = False,
    ) -> tuple[list[Dataset], int]:
        where = [datasets.c.workspace == workspace]
        if with_experiments_only:
            where.append(
                sa.exists().where(
                    experiments.c.workspace == workspace, experiments.c.dataset_id == datasets.c.id
                )
            )
        if project_id:
            in_project = datasets.c.project_id == project_id
            where.append(
                sa.or_(in_project, datasets.c.project_id.is_(None))
                if include_unassigned
                else in_project
            )
        if name:
            where.append(sa.func.lower(datasets.c.name).contains(name.lower(), autoescape=True))
        where += filtering.conditions(self.dialect, _FILTER_COLUMNS, filters)
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(datasets).where(*where)
        ).scalar_one()
        order = filtering.order_by(self.dialect, _FILTER_COLUMNS, sort, datasets.c.id)
        rows = self.connection.execute(
            sa.select(datasets).where(*where).order_by(*order).limit(size).offset((page - 1) * size)
        ).all()
        return [_to_dataset(row) for row in rows], total

    def update(self, dataset_id: str, **values) -> None:
        self.connection.execute(
            datasets.update().where(datasets.c.id == dataset_id).values(**values)
        )

    def touch(
        self, dataset_id: str, items_count: int, sequence: int, when: dt.datetime, by: str
    ) -> None:
        self.update(
            dataset_id,
            items_count=items_count,
            latest_version_sequence=sequence,
            last_updated_at=when,
            last_updated_by=by,
        )

    def delete(self, workspace: str, dataset_ids: list[str]) -> int:
        # Child rows go by ON DELETE CASCADE on both engines; the runs of the dataset's
        # experiments (which outlive it) no longer show its rows.
        deleted = (
            self.connection.execute(
                datasets.delete()
                .where(datasets.c.workspace == workspace, datasets.c.id.in_(dataset_ids))
                .returning(datasets.c.id)
            )
            .scalars()
            .all()
        )
        for dataset_id in deleted:
            experiment_rollups.note_dataset_items(self.connection, dataset_id, None)
        return len(deleted)
