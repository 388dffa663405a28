"""SQL for the compare view: a dataset's items with the runs (experiment items) that
chosen experiments made of them, filtered and sorted on the items and on the runs.

An item shows its data as of the dataset version its runs' experiments pinned (the
newest of them when several experiments pinned different ones): among the item's rows
visible in those versions, the one written last.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.experiments import SUITE_ASSERTION_CATEGORY, Aggregates, ExperimentItem
from seedbed.domain.filters import FieldKind, Filter, Sort
from seedbed.domain.items import Column, Item
from seedbed.storage import dialect as sql_dialect
from seedbed.storage import filtering
from seedbed.storage.repositories.experiment_aggregates import ONE_GROUP, AggregateRepository
from seedbed.storage.repositories.items import filter_columns, to_item
from seedbed.storage.tables import (
    dataset_items,
    experiment_items,
    experiments,
    feedback_scores,
    spans,
    traces,
)

_items = experiment_items.c
_rows = dataset_items.c
_scores = feedback_scores.c
_SCORES = "feedback_scores"  # the run field of scores, by name


@dataclass
class CompareQuery:
    workspace: str
    dataset_id: str
    experiment_ids: list[str]
    item_filters: list[Filter]
    run_filters: list[Filter]
    sort: Sort | None = None
    search: str | None = None
    sort_on_runs: bool = False  # whether ``sort`` names a run field (feedback scores, duration ...)


def _run_columns(workspace: str) -> filtering.Columns:
    """What run filters and sorting name, per experiment item (traces joined)."""

    def score(name: str) -> ColumnElement:
        return (
            sa.select(sa.func.avg(_scores.value))
            .where(
                _scores.entity_type == "trace",
                _scores.entity_id == _items.trace_id,
                _scores.workspace == workspace,
                _scores.name == name,
                sa.or_(
                    _scores.category_name.is_(None),
                    _scores.category_name != SUITE_ASSERTION_CATEGORY,
                ),
            )
            .scalar_subquery()
        )

    cost = (
        sa.select(sa.func.sum(spans.c.total_estimated_cost))
        .where(spans.c.trace_id == _items.trace_id, spans.c.workspace == workspace)
        .scalar_subquery()
    )
    return {
        "output": traces.c.output,
        "duration": traces.c.duration_ms,
        "total_estimated_cost": cost,
        "feedback_scores": score,
    }


def _scores_named(query: CompareQuery) -> list[str]:
    """The feedback scores that run filters and sorting name."""
    names = {flt.key for flt in query.run_filters if flt.field == _SCORES}
    if query.sort is not None and query.sort_on_runs and query.sort.field == _SCORES:
        names.add(query.sort.key)
    return sorted(names)


def _visible_at(sequence: ColumnElement) -> ColumnElement:
    """Item rows of the version ``sequence`` names (0: the dataset had none, the draft)."""
    pinned = sa.and_(
        sequence > 0,
        _rows.valid_from <= sequence,
        sa.or_(_rows.valid_to.is_(None), _rows.valid_to > sequence),
    )
    return sa.or_(pinned, sa.and_(sequence == 0, _rows.valid_to.is_(None)))


class CompareRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def _runs(
        self, query: CompareQuery, *columns, filters: list[Filter] | None = None
    ) -> sa.Select:
        """The runs of the chosen experiments that pass the run filters (or ``filters``)."""
        run_columns = _run_columns(query.workspace)
        return (
            sa.select(*columns)
            .select_from(
                experiment_items.join(
                    experiments, experiments.c.id == _items.experiment_id
                ).outerjoin(
                    traces,
                    sa.and_(traces.c.id == _items.trace_id, traces.c.workspace == query.workspace),
                )
            )
            .where(
                _items.workspace == query.workspace,
                _items.experiment_id.in_(query.experiment_ids),
                *filtering.conditions(
                    self.dialect,
                    run_columns,
                    query.run_filters if filters is None else filters,
                ),
            )
        )

    def _sort_value(self, query: CompareQuery) -> ColumnElement:
        column = _run_columns(query.workspace)[query.sort.field]
        return column(query.sort.key) if query.sort.kind is FieldKind.NAMED_NUMBER else column

    def _matched(self, query: CompareQuery) -> sa.Subquery:
        """One row per dataset item that has a matching run: its item row, and what
        sorting and search need from its runs.

        A run's feedback scores that filters or sorting name are looked up once per run
        (a materialized set of runs), not once per condition that uses them."""
        scored = _scores_named(query)
        labels = {name: f"score_{number}" for number, name in enumerate(scored)}
        score = _run_columns(query.workspace)[_SCORES]
        extras = [score(name).label(label) for name, label in labels.items()]
        sort_on_score = (
            query.sort is not None and query.sort_on_runs and query.sort.field == _SCORES
        )
        if query.sort is not None and query.sort_on_runs and not sort_on_score:
            extras.append(self._sort_value(query).label("sort_value"))
        if query.search:
            hit = sql_dialect.json_text_contains(self.dialect, traces.c.output, query.search)
            extras.append(sa.case((hit, 1), else_=0).label("output_hit"))
        runs = self._runs(
            query,
            _items.dataset_item_id,
            experiments.c.dataset_version_sequence.label("sequence"),
            *extras,
            filters=[flt for flt in query.run_filters if flt.field != _SCORES],
        )
        runs = runs.cte("runs").prefix_with("MATERIALIZED") if labels else runs.subquery("runs")
        score_filters = filtering.conditions(
            self.dialect,
            {_SCORES: lambda name: runs.c[labels[name]]},
            [flt for flt in query.run_filters if flt.field == _SCORES],
        )
        columns = [runs.c.dataset_item_id, sa.func.max(_rows.row_id).label("row_id")]
        if sort_on_score:
            columns.append(sa.func.avg(runs.c[labels[query.sort.key]]).label("sort_value"))
        elif query.sort is not None and query.sort_on_runs:
            columns.append(sa.func.avg(runs.c.sort_value).label("sort_value"))
        if query.search:
            columns.append(sa.func.max(runs.c.output_hit).label("output_hit"))
        item_rows = sa.and_(
            _rows.dataset_id == query.dataset_id,
            _rows.item_id == runs.c.dataset_item_id,
            _visible_at(runs.c.sequence),
        )
        return (
            sa.select(*columns)
            .select_from(runs.join(dataset_items, item_rows))
            .where(*score_filters)
            .group_by(runs.c.dataset_item_id)
            .subquery("matched")
        )

    def _items_where(self, query: CompareQuery, matched: sa.Subquery) -> tuple[sa.FromClause, list]:
        base = matched.join(dataset_items, _rows.row_id == matched.c.row_id)
        where = filtering.conditions(self.dialect, filter_columns(self.dialect), query.item_filters)
        if query.search:
            in_data = sql_dialect.json_text_contains(self.dialect, _rows.data, query.search)
            where.append(sa.or_(in_data, matched.c.output_hit == 1))
        return base, where

    def page(self, query: CompareQuery, page: int, size: int) -> tuple[list[Item], int]:
        matched = self._matched(query)
        base, where = self._items_where(query, matched)
        if query.sort is not None and query.sort_on_runs:
            value = matched.c.sort_value
            columns = {
                query.sort.field: (lambda _name: value)
                if query.sort.kind is FieldKind.NAMED_NUMBER
                else value
            }
        else:
            columns = filter_columns(self.dialect)
        order = filtering.order_by(self.dialect, columns, query.sort, _rows.item_id)
        rows = self.connection.execute(
            sa.select(dataset_items, sa.func.count().over().label("_total"))
            .select_from(base)
            .where(*where)
            .order_by(*order)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        if rows:
            return [to_item(row) for row in rows], rows[0]._total
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(base).where(*where)
        ).scalar_one()
        return [], total

    def runs_of(self, query: CompareQuery, item_ids: list[str]) -> list[ExperimentItem]:
        """The matching runs of the given dataset items, in the order they were made."""
        if not item_ids:
            return []
        rows = self.connection.execute(
            self._runs(query, experiment_items)
            .where(_items.dataset_item_id.in_(item_ids))
            .order_by(_items.id)
        ).all()
        return [
            ExperimentItem(
                **{name: getattr(row, name) for name in ExperimentItem.__dataclass_fields__}
            )
            for row in rows
        ]

    def stats(self, query: CompareQuery) -> tuple[int, Aggregates]:
        """How many runs match, and what their traces add up to."""
        matched = self._matched(query)
        base, where = self._items_where(query, matched)
        kept = sa.select(matched.c.dataset_item_id).select_from(base).where(*where)
        runs = (
            self._runs(query, _items.id, _items.trace_id)
            .where(_items.dataset_item_id.in_(kept))
            .subquery("kept_runs")
        )
        count, traces_count = self.connection.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(runs.c.trace_id))).select_from(
                runs
            )
        ).one()
        grouped = (
            sa.select(sa.literal(ONE_GROUP).label("group_id"), runs.c.trace_id)
            .distinct()
            .subquery("runs")
        )
        found = AggregateRepository(self.connection).for_runs(grouped, query.workspace)
        found.trace_count = traces_count
        return count, found

    def output_columns(
        self, workspace: str, dataset_id: str, experiment_ids: list[str] | None
    ) -> list[Column]:
        """The top-level keys of the outputs of the dataset's experiments' traces."""
        entries, key, _, kind = sql_dialect.json_object_entries(self.dialect, traces.c.output)
        query = (
            sa.select(key.label("name"), kind.label("type"))
            .distinct()
            .select_from(
                experiment_items.join(experiments, experiments.c.id == _items.experiment_id)
                .join(
                    traces, sa.and_(traces.c.id == _items.trace_id, traces.c.workspace == workspace)
                )
                .join(entries, sa.true())
            )
            .where(_items.workspace == workspace, experiments.c.dataset_id == dataset_id)
            .order_by("name", "type")
        )
        if experiment_ids is not None:
            query = query.where(_items.experiment_id.in_(experiment_ids))
        grouped: dict[str, list[str]] = {}
        for row in self.connection.execute(query):
            grouped.setdefault(row.name, []).append(row.type)
        return [Column(name, tuple(types)) for name, types in grouped.items()]
