"""SQL for experiments and experiment items."""

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.experiments import Experiment, ExperimentItem
from seedbed.domain.filters import Filter, Sort
from seedbed.storage import dialect as sql_dialect
from seedbed.storage import filtering
from seedbed.storage.repositories import experiment_rollups
from seedbed.storage.repositories.prompts import linked_to_prompt
from seedbed.storage.tables import (
    datasets,
    experiment_items,
    experiment_prompt_versions,
    experiments,
    projects,
)

_experiments = experiments.c
_items = experiment_items.c
# What an experiment item links, as experiments' rollups need it.
_LINK_COLUMNS = (_items.workspace, _items.experiment_id, _items.trace_id, _items.dataset_item_id)


@dataclass
class ExperimentCriteria:
    """What ``GET experiments`` narrows by, besides filters (all optional)."""

    dataset_id: str | None = None
    optimization_id: str | None = None
    types: list[str] | None = None
    name: str | None = None
    dataset_deleted: bool | None = None
    prompt_id: str | None = None
    project_id: str | None = None
    include_unassigned: bool = False  # experiments without a project count as in it
    project_deleted: bool | None = None
    experiment_ids: list[str] | None = None


def _to_experiment(row) -> Experiment:
    return Experiment(
        id=row.id,
        workspace=row.workspace,
        dataset_id=row.dataset_id,
        dataset_name=row.dataset_name,
        dataset_version_sequence=row.dataset_version_sequence,
        project_id=row.project_id,
        name=row.name,
        metadata=row.metadata,
        tags=list(row.tags or []),
        type=row.type,
        evaluation_method=row.evaluation_method,
        optimization_id=row.optimization_id,
        status=row.status,
        experiment_scores=dict(row.experiment_scores or {}),
        created_at=row.created_at,
        created_by=row.created_by,
        last_updated_at=row.last_updated_at,
        last_updated_by=row.last_updated_by,
        project_name=row.project_name,
    )


def _to_item(row) -> ExperimentItem:
    return ExperimentItem(
        **{name: getattr(row, name) for name in ExperimentItem.__dataclass_fields__}
    )


@dataclass
class DatasetExperiments:
    count: int
    last_created_at: dt.datetime


class ExperimentRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    # -- experiments ---------------------------------------------------------------------

    def _select(self):
        return sa.select(experiments, projects.c.name.label("project_name")).select_from(
            experiments.outerjoin(projects, projects.c.id == _experiments.project_id)
        )

    def insert(self, experiment: Experiment) -> None:
        values = {c.name: getattr(experiment, c.name) for c in experiments.columns}
        self.connection.execute(experiments.insert().values(**values))

    def id_taken(self, experiment_id: str) -> bool:
        """Whether an id is taken, in any workspace (ids are global primary keys)."""
        found = self.connection.execute(
            sa.select(sa.literal(1)).where(_experiments.id == experiment_id)
        )
        return found.first() is not None

    def get(self, workspace: str, experiment_id: str) -> Experiment | None:
        row = self.connection.execute(
            self._select().where(
                _experiments.workspace == workspace, _experiments.id == experiment_id
            )
        ).first()
        return _to_experiment(row) if row else None

    def existing_ids(self, workspace: str, experiment_ids: list[str]) -> set[str]:
        return set(
            self.connection.execute(
                sa.select(_experiments.id).where(
                    _experiments.workspace == workspace, _experiments.id.in_(experiment_ids)
                )
            ).scalars()
        )

    def by_ids(self, workspace: str, experiment_ids: list[str]) -> list[Experiment]:
        rows = self.connection.execute(
            self._select()
            .where(_experiments.workspace == workspace, _experiments.id.in_(experiment_ids))
            .order_by(_experiments.id.desc())
        ).all()
        return [_to_experiment(row) for row in rows]

    def update(self, experiment_id: str, **values) -> None:
        self.connection.execute(
            experiments.update().where(_experiments.id == experiment_id).values(**values)
        )

    def finish(self, workspace: str, experiment_ids: list[str], **audit) -> None:
        """Running experiments become completed (cancelled ones stay cancelled)."""
        self.connection.execute(
            experiments.update()
            .where(
                _experiments.workspace == workspace,
                _experiments.id.in_(experiment_ids),
                _experiments.status == "running",
            )
            .values(status="completed", **audit)
        )

    def delete(self, workspace: str, experiment_ids: list[str]) -> None:
        """Experiments, their items, rollups and prompt links (their traces stay, as in
        Opik)."""
        self.connection.execute(
            experiment_items.delete().where(
                _items.workspace == workspace, _items.experiment_id.in_(experiment_ids)
            )
        )
        mine = sa.select(_experiments.id).where(
            _experiments.workspace == workspace, _experiments.id.in_(experiment_ids)
        )
        experiment_rollups.ExperimentRollupRepository(self.connection).forget_experiments(
            list(self.connection.execute(mine).scalars())
        )
        self.connection.execute(
            experiment_prompt_versions.delete().where(
                experiment_prompt_versions.c.experiment_id.in_(mine)
            )
        )
        self.connection.execute(
            experiments.delete().where(
                _experiments.workspace == workspace, _experiments.id.in_(experiment_ids)
            )
        )

    def _criteria(self, workspace: str, criteria: ExperimentCriteria) -> list[ColumnElement]:
        where = [_experiments.workspace == workspace]
        if criteria.dataset_id:
            where.append(_experiments.dataset_id == criteria.dataset_id)
        if criteria.optimization_id:
            where.append(_experiments.optimization_id == criteria.optimization_id)
        if criteria.types:
            where.append(_experiments.type.in_(criteria.types))
        if criteria.name:
            where.append(
                sa.func.lower(_experiments.name).contains(criteria.name.lower(), autoescape=True)
            )
        if criteria.experiment_ids is not None:
            where.append(_experiments.id.in_(criteria.experiment_ids))
        if criteria.prompt_id:
            where.append(linked_to_prompt(_experiments.id, criteria.prompt_id))
        if criteria.dataset_deleted is not None:
            dataset_exists = sa.exists().where(
                datasets.c.id == _experiments.dataset_id, datasets.c.workspace == workspace
            )
            where.append(~dataset_exists if criteria.dataset_deleted else dataset_exists)
        if criteria.project_id or criteria.include_unassigned:
            in_project = (
                [_experiments.project_id == criteria.project_id] if criteria.project_id else []
            )
            if criteria.include_unassigned:
                in_project.append(_experiments.project_id.is_(None))
            where.append(sa.or_(*in_project))
        if criteria.project_deleted is not None:
            # An alias: the listing joins projects itself for their names.
            project = projects.alias("project_check")
            project_gone = sa.and_(
                _experiments.project_id.is_not(None),
                ~sa.exists().where(project.c.id == _experiments.project_id),
            )
            where.append(project_gone if criteria.project_deleted else ~project_gone)
        return where

    def _columns(self) -> filtering.Columns:
        columns: dict = {
            name: _experiments[name]
            for name in (
                "id",
                "name",
                "metadata",
                "dataset_id",
                "project_id",
                "optimization_id",
                "type",
                "status",
                "tags",
                "created_at",
                "last_updated_at",
                "created_by",
                "last_updated_by",
            )
        }
        columns["feedback_scores"] = lambda name: experiment_rollups.score_average(
            _experiments.id, name
        )
        columns["experiment_scores"] = lambda name: sql_dialect.json_number(
            self.dialect, _experiments.experiment_scores, (name,)
        )
        columns.update(experiment_rollups.rollup_columns())
        return columns

    def find(
        self,
        workspace: str,
        criteria: ExperimentCriteria,
        filters: list[Filter],
        sort: Sort | None,
        page: int,
        size: int | None,
    ) -> tuple[list[Experiment], int]:
        """One page of the matching experiments (every one of them when ``size`` is
        ``None``) and how many match in all."""
        columns = self._columns()
        where = self._criteria(workspace, criteria) + filtering.conditions(
            self.dialect, columns, filters
        )
        order = filtering.order_by(self.dialect, columns, sort, _experiments.id)
        base = experiment_rollups.with_rollups(experiments)
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(base).where(*where)
        ).scalar_one()
        query = (
            sa.select(experiments, projects.c.name.label("project_name"))
            .select_from(base.outerjoin(projects, projects.c.id == _experiments.project_id))
            .where(*where)
            .order_by(*order)
        )
        if size is not None:
            query = query.limit(size).offset((page - 1) * size)
        rows = self.connection.execute(query).all()
        return [_to_experiment(row) for row in rows], total

    def ids_matching(self, workspace: str, criteria: ExperimentCriteria) -> list[str]:
        return list(
            self.connection.execute(
                sa.select(_experiments.id).where(*self._criteria(workspace, criteria))
            ).scalars()
        )

    def stream(
        self, workspace: str, criteria: ExperimentCriteria, before_id: str | None, limit: int
    ) -> list[Experiment]:
        """Newest first, continuing below ``before_id`` (a keyset cursor)."""
        where = self._criteria(workspace, criteria)
        if before_id:
            where.append(_experiments.id < before_id)
        rows = self.connection.execute(
            self._select().where(*where).order_by(_experiments.id.desc()).limit(limit)
        ).all()
        return [_to_experiment(row) for row in rows]

    def ids_named(self, workspace: str, name: str) -> list[str]:
        return list(
            self.connection.execute(
                sa.select(_experiments.id).where(
                    _experiments.workspace == workspace, _experiments.name == name
                )
            ).scalars()
        )

    # -- experiment items ----------------------------------------------------------------

    def insert_items(self, rows: list[dict]) -> None:
        """Insert items; an id already stored keeps what it has (re-sent batches)."""
        if rows:
            insert = sql_dialect.insert_ignoring_conflicts(self.dialect, experiment_items)
            inserted = self.connection.execute(insert.returning(*_LINK_COLUMNS), rows)
            experiment_rollups.note_items(self.connection, inserted.all(), 1)

    def item_counts(self, experiment_ids: list[str]) -> dict[str, int]:
        rows = self.connection.execute(
            sa.select(_items.experiment_id, sa.func.count())
            .where(_items.experiment_id.in_(experiment_ids))
            .group_by(_items.experiment_id)
        )
        return {experiment_id: count for experiment_id, count in rows}

    def refresh_statistics(self) -> None:
        """Let the query planner see how big experiments have become: aggregates join
        experiment items with traces, spans and scores, and a planner that still takes
        them for empty picks nested loops that scan the items once per score; and the
        compare view's runs, whose indexes it must tell apart."""
        tables = ("experiment_items", "traces", "spans", "feedback_scores")
        for table in (*tables, "experiment_runs", "experiment_run_scores"):
            self.connection.exec_driver_sql(f"ANALYZE {table}")

    def get_item(self, workspace: str, item_id: str) -> ExperimentItem | None:
        row = self.connection.execute(
            sa.select(experiment_items).where(_items.workspace == workspace, _items.id == item_id)
        ).first()
        return _to_item(row) if row else None

    def delete_items(self, workspace: str, item_ids: list[str]) -> None:
        deleted = self.connection.execute(
            experiment_items.delete()
            .where(_items.workspace == workspace, _items.id.in_(item_ids))
            .returning(*_LINK_COLUMNS)
        )
        experiment_rollups.note_items(self.connection, deleted.all(), -1)

    def stream_items(
        self, workspace: str, experiment_ids: list[str], before_id: str | None, limit: int
    ) -> list[ExperimentItem]:
        where = [_items.workspace == workspace, _items.experiment_id.in_(experiment_ids)]
        if before_id:
            where.append(_items.id < before_id)
        rows = self.connection.execute(
            sa.select(experiment_items).where(*where).order_by(_items.id.desc()).limit(limit)
        ).all()
        return [_to_item(row) for row in rows]

    def per_dataset(self, workspace: str, dataset_ids: list[str]) -> dict[str, DatasetExperiments]:
        """How many experiments ran on each dataset, and when the newest was created."""
        if not dataset_ids:
            return {}
        rows = self.connection.execute(
            sa.select(
                experiments.c.dataset_id, sa.func.count(), sa.func.max(experiments.c.created_at)
            )
            .where(experiments.c.workspace == workspace, experiments.c.dataset_id.in_(dataset_ids))
            .group_by(experiments.c.dataset_id)
        ).all()
        return {dataset_id: DatasetExperiments(count, last) for dataset_id, count, last in rows}
