"""SQL for what a selection of experiments' traces adds up to, computed when asked.

Each builder takes ``runs``: a subquery of distinct ``(group_id, trace_id)`` pairs (the
group being an experiment, or the one group of a compare-view selection) and answers one
row per group (and name or key). The compare view aggregates the runs it selects this
way; experiments' own aggregates are kept as data arrives (``experiment_rollups``), and
these builders are what those must always equal.

- A trace's score for a name is the average of its authors' latest values (one row per
  author is stored); an experiment's score is the average of its traces' scores.
- Duration percentiles interpolate linearly between the two nearest ranks, as
  ``percentile_cont`` and numpy do: position ``p * (n - 1)`` over the sorted durations.
  SQLite has no ``percentile_cont``, so both engines rank with window functions and
  interpolate with integer arithmetic (``p`` is a whole percent).
- Cost and usage: a trace's are the sums over its spans; the experiment reports the sum
  of trace costs, and averages per trace (over the traces that have any).
"""

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.experiments import (
    PERCENTILES,
    SUITE_ASSERTION_CATEGORY,
    Aggregates,
    Percentiles,
    SuiteResult,
)
from seedbed.storage import dialect as sql_dialect
from seedbed.storage.tables import (
    dataset_versions,
    experiment_items,
    experiments,
    feedback_scores,
    spans,
    traces,
)

_items = experiment_items.c
_scores = feedback_scores.c
ONE_GROUP = "all"  # the group_id of runs aggregated together (compare-view stats)


def experiment_runs(workspace: str, experiment_ids: list[str] | None = None):
    """The distinct traces of experiments of a workspace (all of them without ids)."""
    query = (
        sa.select(_items.experiment_id.label("group_id"), _items.trace_id)
        .where(_items.workspace == workspace)
        .distinct()
    )
    if experiment_ids is not None:
        query = query.where(_items.experiment_id.in_(experiment_ids))
    return query.subquery("runs")


def item_counts(workspace: str, experiment_ids: list[str] | None = None) -> Select:
    query = (
        sa.select(
            _items.experiment_id.label("group_id"),
            sa.func.count(sa.distinct(_items.trace_id)).label("trace_count"),
            sa.func.count(sa.distinct(_items.dataset_item_id)).label("dataset_item_count"),
        )
        .where(_items.workspace == workspace)
        .group_by(_items.experiment_id)
    )
    if experiment_ids is not None:
        query = query.where(_items.experiment_id.in_(experiment_ids))
    return query


def _is_assertion(assertions: bool) -> ColumnElement:
    if assertions:
        return _scores.category_name == SUITE_ASSERTION_CATEGORY
    return sa.or_(
        _scores.category_name.is_(None), _scores.category_name != SUITE_ASSERTION_CATEGORY
    )


def score_averages(
    runs, workspace: str, name: str | None = None, assertions: bool = False
) -> Select:
    """(group_id, name, value): per name, the average over traces of each trace's score."""
    per_trace = (
        sa.select(runs.c.group_id, _scores.name, sa.func.avg(_scores.value).label("value"))
        .select_from(
            runs.join(
                feedback_scores,
                sa.and_(_scores.entity_id == runs.c.trace_id, _scores.entity_type == "trace"),
            )
        )
        .where(_scores.workspace == workspace, _is_assertion(assertions))
        .group_by(runs.c.group_id, runs.c.trace_id, _scores.name)
    )
    if name is not None:
        per_trace = per_trace.where(_scores.name == name)
    per_trace = per_trace.subquery("trace_scores")
    return sa.select(
        per_trace.c.group_id, per_trace.c.name, sa.func.avg(per_trace.c.value).label("value")
    ).group_by(per_trace.c.group_id, per_trace.c.name)


def duration_percentiles(runs, workspace: str) -> Select:
    """(group_id, p50, p90, p99) of the traces' durations in milliseconds."""
    ranked = (
        sa.select(
            runs.c.group_id,
            traces.c.duration_ms.label("value"),
            (
                sa.func.row_number().over(
                    partition_by=runs.c.group_id, order_by=traces.c.duration_ms
                )
                - 1
            ).label("position"),
            sa.func.count().over(partition_by=runs.c.group_id).label("n"),
        )
        .select_from(runs.join(traces, traces.c.id == runs.c.trace_id))
        .where(traces.c.workspace == workspace, traces.c.duration_ms.is_not(None))
        .subquery("ranked")
    )
    columns = []
    for name, percent in PERCENTILES:
        scaled = percent * (ranked.c.n - 1)  # the position, in hundredths
        below = scaled // 100  # integer division on both engines
        low = sa.func.max(sa.case((ranked.c.position == below, ranked.c.value)))
        high = sa.func.max(sa.case((ranked.c.position == below + 1, ranked.c.value)))
        weight = sa.func.max(sa.cast(scaled % 100, sa.Float) / 100)
        columns.append((low + weight * (sa.func.coalesce(high, low) - low)).label(name))
    return sa.select(ranked.c.group_id, *columns).group_by(ranked.c.group_id)


def costs(runs, workspace: str) -> Select:
    """(group_id, total, average): the sum of trace costs and their average per trace
    (over the traces with a cost): one pass over the spans, no per-trace grouping."""
    total = sa.func.sum(spans.c.total_estimated_cost)
    return (
        sa.select(
            runs.c.group_id,
            total.label("total"),
            (total / sa.func.count(sa.distinct(runs.c.trace_id))).label("average"),
        )
        .select_from(runs.join(spans, spans.c.trace_id == runs.c.trace_id))
        .where(spans.c.workspace == workspace, spans.c.total_estimated_cost.is_not(None))
        .group_by(runs.c.group_id)
    )


def usage_averages(runs, workspace: str, dialect: str) -> Select:
    """(group_id, key, value): per usage key, the average over traces (those that have
    the key) of their spans' sum, i.e. the key's total over the number of such traces."""
    entries, key, number, _ = sql_dialect.json_object_entries(dialect, spans.c.usage)
    return (
        sa.select(
            runs.c.group_id,
            key.label("key"),
            # SQLAlchemy's "/" is true division on both engines, integers included.
            (sa.func.sum(number) / sa.func.count(sa.distinct(runs.c.trace_id))).label("value"),
        )
        .select_from(runs.join(spans, spans.c.trace_id == runs.c.trace_id).join(entries, sa.true()))
        .where(spans.c.workspace == workspace, number.is_not(None))
        .group_by(runs.c.group_id, key)
    )


def suite_results(workspace: str, experiment_ids: list[str], dialect: str) -> Select:
    """(group_id, passed_count, total_count) of evaluation-suite experiments.

    A run (experiment item) passes unless one of its trace's assertions has a value other
    than 1; an item passes when at least ``pass_threshold`` of its runs pass, the
    threshold coming from the run's execution policy, else the pinned dataset version's,
    else 1.
    """
    failed_assertion = sa.exists().where(
        _scores.entity_type == "trace",
        _scores.entity_id == _items.trace_id,
        _scores.workspace == workspace,
        _scores.category_name == SUITE_ASSERTION_CATEGORY,
        _scores.value != 1,
    )
    threshold = sa.func.coalesce(
        sql_dialect.json_number(dialect, _items.execution_policy, ("pass_threshold",)),
        sql_dialect.json_number(dialect, dataset_versions.c.execution_policy, ("pass_threshold",)),
        1,
    )
    pinned = sa.and_(
        dataset_versions.c.dataset_id == experiments.c.dataset_id,
        dataset_versions.c.sequence == experiments.c.dataset_version_sequence,
    )
    runs = (
        sa.select(
            _items.experiment_id,
            _items.dataset_item_id,
            _items.trace_id,
            threshold.label("threshold"),
            sa.case((failed_assertion, 0), else_=1).label("passed"),
        )
        .select_from(
            experiment_items.join(experiments, experiments.c.id == _items.experiment_id).outerjoin(
                dataset_versions, pinned
            )
        )
        .where(_items.workspace == workspace, _items.experiment_id.in_(experiment_ids))
        .distinct()
        .subquery("suite_runs")
    )
    per_item = (
        sa.select(
            runs.c.experiment_id,
            sa.func.sum(runs.c.passed).label("passed_runs"),
            sa.func.max(runs.c.threshold).label("threshold"),
        )
        .group_by(runs.c.experiment_id, runs.c.dataset_item_id)
        .subquery("suite_items")
    )
    return sa.select(
        per_item.c.experiment_id.label("group_id"),
        sa.func.sum(sa.case((per_item.c.passed_runs >= per_item.c.threshold, 1), else_=0)).label(
            "passed_count"
        ),
        sa.func.count().label("total_count"),
    ).group_by(per_item.c.experiment_id)


class AggregateRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def _fill(self, found: dict[str, Aggregates], runs, workspace: str) -> None:
        execute = self.connection.execute
        for row in execute(score_averages(runs, workspace)):
            found[row.group_id].feedback_scores[row.name] = row.value
        for row in execute(duration_percentiles(runs, workspace)):
            found[row.group_id].duration = Percentiles(row.p50, row.p90, row.p99)
        for row in execute(costs(runs, workspace)):
            found[row.group_id].total_estimated_cost = row.total
            found[row.group_id].total_estimated_cost_avg = row.average
        for row in execute(usage_averages(runs, workspace, self.dialect)):
            found[row.group_id].usage[row.key] = row.value

    def add_suite_results(
        self, workspace: str, found: dict[str, Aggregates], suite_ids: list[str]
    ) -> None:
        """Pass rates of the evaluation suites among ``found``, computed now; assertion
        scores are shown for suites only."""
        for experiment_id, aggregates in found.items():
            if experiment_id not in suite_ids:
                aggregates.assertion_scores = {}
        if suite_ids:
            for row in self.connection.execute(suite_results(workspace, suite_ids, self.dialect)):
                found[row.group_id].suite = SuiteResult(row.passed_count, row.total_count)
            for suite_id in suite_ids:
                found[suite_id].suite = found[suite_id].suite or SuiteResult(0, 0)

    def from_scratch(self, workspace: str, experiment_ids: list[str]) -> dict[str, Aggregates]:
        """The aggregates of each experiment computed from its traces, spans and scores
        (what the kept ones must equal), assertion scores included."""
        found = {experiment_id: Aggregates() for experiment_id in experiment_ids}
        if not experiment_ids:
            return found
        for row in self.connection.execute(item_counts(workspace, experiment_ids)):
            found[row.group_id].trace_count = row.trace_count
            found[row.group_id].dataset_item_count = row.dataset_item_count
        runs = experiment_runs(workspace, experiment_ids)
        self._fill(found, runs, workspace)
        for row in self.connection.execute(score_averages(runs, workspace, assertions=True)):
            found[row.group_id].assertion_scores[row.name] = row.value
        return found

    def for_runs(self, runs, workspace: str) -> Aggregates:
        """The aggregates of one selection of runs, whose ``group_id`` is ``ONE_GROUP``."""
        found = {ONE_GROUP: Aggregates()}
        self._fill(found, runs, workspace)
        return found[ONE_GROUP]
