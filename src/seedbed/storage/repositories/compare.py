"""SQL for the compare view: a dataset's items with the runs (experiment items) that
chosen experiments made of them, filtered and sorted on the items and on the runs.

An item shows its data as of the dataset version its runs' experiments pinned (the
newest of them when several experiments pinned different ones): among the item's rows
visible in those versions, the one written last.

Runs are read from what is kept of them (``experiment_runs``, ``experiment_run_scores``:
see ``experiment_runs.py``): each run's scores, duration, cost and the item row its
version shows, so a page groups one index range of the dataset's runs by item and joins
the item rows of its own rows only, unless item filters, search or a sort on item
fields need them all.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.experiments import Aggregates, ExperimentItem
from seedbed.domain.filters import FieldKind, Filter, Operator, Sort
from seedbed.domain.items import Column, Item
from seedbed.storage import dialect as sql_dialect
from seedbed.storage import filtering
from seedbed.storage.repositories import compare_top
from seedbed.storage.repositories.experiment_aggregates import ONE_GROUP, AggregateRepository
from seedbed.storage.repositories.experiment_runs import shown_row
from seedbed.storage.repositories.items import filter_columns, to_item
from seedbed.storage.tables import (
    dataset_items,
    experiment_items,
    experiment_run_scores,
    experiment_runs,
    experiments,
    traces,
)

_items = experiment_items.c
_rows = dataset_items.c
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

    @property
    def sort_on_score(self) -> bool:
        return self.sort is not None and self.sort_on_runs and self.sort.field == _SCORES


def _scores_named(query: CompareQuery) -> list[str]:
    """The feedback scores that run filters and sorting name."""
    names = {flt.key for flt in query.run_filters if flt.field == _SCORES}
    if query.sort_on_score:
        names.add(query.sort.key)
    return sorted(names)


def _required_score(query: CompareQuery) -> str | None:
    """A score every matching run has (a filter that a run without it fails), if any:
    the runs are then read from that score's rows, in the order its index keeps them."""
    for flt in query.run_filters:
        if flt.field == _SCORES and flt.operator is not Operator.IS_EMPTY:
            return flt.key
    return None


@dataclass
class _Runs:
    """The matching runs of a query: a FROM clause, its conditions, and their columns."""

    source: sa.FromClause
    where: list[ColumnElement]
    run_id: ColumnElement
    dataset_item_id: ColumnElement
    item: tuple[ColumnElement, ColumnElement]  # the dataset item id as two integers
    item_row_id: ColumnElement  # the row of the queried dataset the run's version shows
    columns: filtering.Columns  # what run filters and sorting name
    runs: sa.Table | None  # experiment_runs, when joined


class CompareRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._scopes: dict[tuple, tuple[bool, bool]] = {}

    def _scope(self, query: CompareQuery) -> tuple[bool, bool]:
        """Whether every chosen experiment ran on the queried dataset (else the rows
        their runs show are looked up in it), and whether they are all of its
        experiments (then its runs need no check of their experiment)."""
        key = (query.dataset_id, tuple(query.experiment_ids))
        if key not in self._scopes:
            count = sa.select(sa.func.count()).select_from(experiments)
            foreign = count.where(
                experiments.c.id.in_(query.experiment_ids),
                experiments.c.dataset_id != query.dataset_id,
            )
            left_out = count.where(
                experiments.c.workspace == query.workspace,
                experiments.c.dataset_id == query.dataset_id,
                experiments.c.id.not_in(query.experiment_ids),
            )
            self._scopes[key] = (
                self.connection.execute(foreign).scalar_one() == 0,
                self.connection.execute(left_out).scalar_one() == 0,
            )
        return self._scopes[key]

    def _runs(
        self,
        query: CompareQuery,
        with_trace: bool = False,
        by_run: bool = False,
        by_score: str | None = None,
    ) -> _Runs:
        """The runs of the chosen experiments that pass the run filters, read from the
        rows of a score every matching run has, if any (``by_score``: of that score,
        whose values alone count; ``by_run``: run by run, for the runs of a few items)."""
        own_dataset, whole_dataset = self._scope(query)
        required = by_score or (None if by_run else _required_score(query))
        named = _scores_named(query)
        needs_output = query.search is not None or any(
            flt.field == "output" for flt in query.run_filters
        )
        needs_run_row = (
            with_trace
            or needs_output
            or not own_dataset
            or any(flt.field != _SCORES for flt in query.run_filters)
            or (query.sort_on_runs and not query.sort_on_score)
        )
        scores = {
            name: experiment_run_scores.alias(f"score_{number}")
            for number, name in enumerate(named)
        }
        if required is not None:
            base = scores[required]
            where = [base.c.name == required]
        else:
            base = experiment_runs
            where = []
        source = base
        for name, alias in scores.items():
            if alias is not base:
                source = source.outerjoin(
                    alias,
                    sa.and_(
                        alias.c.experiment_item_id == base.c.experiment_item_id,
                        alias.c.name == name,
                    ),
                )
        runs = experiment_runs if base is experiment_runs else None
        if runs is None and needs_run_row:
            runs = experiment_runs
            source = source.join(runs, runs.c.experiment_item_id == base.c.experiment_item_id)
        if needs_output:
            source = source.outerjoin(
                traces,
                sa.and_(traces.c.id == runs.c.trace_id, traces.c.workspace == query.workspace),
            )
        if not (own_dataset and whole_dataset):
            where.append(base.c.experiment_id.in_(query.experiment_ids))
        if own_dataset:
            where.append(base.c.dataset_id == query.dataset_id)
            item_row_id = base.c.item_row_id
        else:
            item_row_id = sa.case(
                (runs.c.dataset_id == query.dataset_id, runs.c.item_row_id),
                else_=shown_row(
                    query.dataset_id, runs.c.dataset_item_id, runs.c.dataset_version_sequence
                ),
            )
        columns: dict = {_SCORES: lambda name: scores[name].c.value}
        if runs is not None:
            columns.update(duration=runs.c.duration_ms, total_estimated_cost=runs.c.cost)
        if needs_output:
            columns["output"] = traces.c.output
        where.extend(filtering.conditions(self.dialect, columns, query.run_filters))
        return _Runs(
            source,
            where,
            base.c.experiment_item_id,
            base.c.dataset_item_id,
            (base.c.item_high, base.c.item_low),
            item_row_id,
            columns,
            runs,
        )

    def _sort_value(self, query: CompareQuery, runs: _Runs) -> ColumnElement:
        value = runs.columns[query.sort.field]
        return value(query.sort.key) if query.sort.kind is FieldKind.NAMED_NUMBER else value

    def _grouped(self, query: CompareQuery, counting: bool = False) -> sa.Select:
        """One row per dataset item that has a matching run its version shows: the
        newest row shown, and what sorting and search need from its runs (``counting``:
        nothing but the item)."""
        runs = self._runs(query)
        where = [*runs.where, runs.item_row_id.is_not(None)]
        columns = [runs.item[0].label("item_high"), runs.item[1].label("item_low")]
        grouped = sa.select().select_from(runs.source).where(*where).group_by(*runs.item)
        if counting:
            return grouped.add_columns(*columns)
        columns.append(sa.func.max(runs.item_row_id).label("row_id"))
        if query.sort is not None and query.sort_on_runs:
            columns.append(sa.func.avg(self._sort_value(query, runs)).label("sort_value"))
        if query.search:
            hit = sql_dialect.json_text_contains(self.dialect, traces.c.output, query.search)
            columns.append(sa.func.max(sa.case((hit, 1), else_=0)).label("output_hit"))
        return grouped.add_columns(*columns)

    def _matched(self, query: CompareQuery, counting: bool = False) -> sa.Subquery:
        return self._grouped(query, counting).subquery("matched")

    def matched_items(self, query: CompareQuery, items: list[tuple[int, int]]) -> sa.Select:
        """``_matched`` of these items only (integer pairs), those with a matching run
        shown: each item's aggregates looked up by a seek in the index (a join or
        ``IN`` lets SQLite build a Bloom filter of the whole table first)."""
        runs = self._runs(query)
        wanted = sql_dialect.integer_pairs(self.dialect, items, "wanted")
        of_item = (
            sa.select()
            .select_from(runs.source)
            .where(
                *runs.where,
                runs.item_row_id.is_not(None),
                runs.item[0] == wanted.c.high,
                runs.item[1] == wanted.c.low,
            )
        )
        row_id = of_item.add_columns(sa.func.max(runs.item_row_id)).scalar_subquery()
        sort_value = of_item.add_columns(sa.func.avg(self._sort_value(query, runs)))
        found = sa.select(
            wanted.c.high.label("item_high"),
            wanted.c.low.label("item_low"),
            row_id.label("row_id"),
            sort_value.scalar_subquery().label("sort_value"),
        ).subquery("matched")
        return sa.select(found).where(found.c.row_id.is_not(None))

    def _needs_all_rows(self, query: CompareQuery) -> bool:
        """Whether item filters, search or sorting read every matched item's row."""
        sorted_on_item = (
            query.sort is not None and not query.sort_on_runs and query.sort.field != "id"
        )
        return bool(query.item_filters or query.search or sorted_on_item)

    def _items_where(self, query: CompareQuery, matched: sa.Subquery) -> tuple[sa.FromClause, list]:
        base = matched.join(dataset_items, _rows.row_id == matched.c.row_id)
        where = filtering.conditions(self.dialect, filter_columns(self.dialect), query.item_filters)
        if query.search:
            in_data = sql_dialect.json_text_contains(self.dialect, _rows.data, query.search)
            where.append(sa.or_(in_data, matched.c.output_hit == 1))
        return base, where

    def _order(self, query: CompareQuery, matched: sa.Subquery, with_rows: bool) -> list:
        """ORDER BY of a page; the item id breaks ties (its two integers order as its
        text does)."""
        high, low = matched.c.item_high, matched.c.item_low
        if query.sort is not None and query.sort_on_runs:
            value = matched.c.sort_value
            columns = {
                query.sort.field: (lambda _name: value)
                if query.sort.kind is FieldKind.NAMED_NUMBER
                else value
            }
        elif with_rows:
            columns = filter_columns(self.dialect)
        elif query.sort is not None and not query.sort.descending:  # on the id, ascending
            return [high.asc(), low.asc()]
        else:  # on the id, descending, or not sorted: newest first
            return [high.desc(), low.desc()]
        return [*filtering.order_by(self.dialect, columns, query.sort, high), low.desc()]

    def _count(self, query: CompareQuery) -> int:
        counted = self._matched(query, counting=True)
        return self.connection.execute(sa.select(sa.func.count()).select_from(counted)).scalar_one()

    def page(self, query: CompareQuery, page: int, size: int) -> tuple[list[Item], int]:
        with_rows = self._needs_all_rows(query)
        if query.sort_on_score and not with_rows and self._scope(query)[0]:
            first = compare_top.first_by_score(self, query, page * size)
            if first is not None:
                return self._items(first[(page - 1) * size :]), self._count(query)
        if not with_rows and not query.sort_on_runs:
            # In item id order, the index's own: the page's groups come first, and the
            # count is a pass of its own (a count over the page would read them all).
            grouped = self._grouped(query)
            high, low = grouped.selected_columns.item_high, grouped.selected_columns.item_low
            ascending = query.sort is not None and not query.sort.descending
            order = [high.asc(), low.asc()] if ascending else [high.desc(), low.desc()]
            found = self.connection.execute(
                grouped.order_by(*order).limit(size).offset((page - 1) * size)
            )
            return self._items([row.row_id for row in found]), self._count(query)
        matched = self._matched(query)
        if with_rows:
            base, where = self._items_where(query, matched)
        else:
            base, where = matched, []
        rows = self.connection.execute(
            sa.select(matched.c.row_id, sa.func.count().over().label("_total"))
            .select_from(base)
            .where(*where)
            .order_by(*self._order(query, matched, with_rows))
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        if rows:
            return self._items([row.row_id for row in rows]), rows[0]._total
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(base).where(*where)
        ).scalar_one()
        return [], total

    def _items(self, row_ids: list[int]) -> list[Item]:
        """Item rows by row id, in the order given."""
        found = {
            row.row_id: row
            for row in self.connection.execute(
                sa.select(dataset_items).where(_rows.row_id.in_(row_ids))
            )
        }
        return [to_item(found[row_id]) for row_id in row_ids]

    def runs_of(self, query: CompareQuery, item_ids: list[str]) -> list[ExperimentItem]:
        """The matching runs of the given dataset items, in the order they were made."""
        if not item_ids:
            return []
        runs = self._runs(query, by_run=True)
        matching = (
            sa.select(runs.run_id)
            .select_from(runs.source)
            .where(*runs.where, runs.dataset_item_id.in_(item_ids))
        )
        rows = self.connection.execute(
            sa.select(experiment_items).where(_items.id.in_(matching)).order_by(_items.id)
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
        if self._needs_all_rows(query):
            base, where = self._items_where(query, matched)
        else:
            base, where = matched, []
        kept = sa.select(matched.c.item_high, matched.c.item_low).select_from(base).where(*where)
        found = self._runs(query, with_trace=True)
        runs = (
            sa.select(found.run_id, found.runs.c.trace_id)
            .select_from(found.source)
            .where(*found.where, sa.tuple_(*found.item).in_(kept))
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
        found_aggregates = AggregateRepository(self.connection).for_runs(grouped, query.workspace)
        found_aggregates.trace_count = traces_count
        return count, found_aggregates

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
