"""Experiment aggregates kept up to date in the transaction of every write that changes them.

The repositories that write traces, spans, trace scores and experiment items *note* what
they changed on the connection (``note_traces``, ``note_items``); when the unit of work
commits, ``settle`` replaces the old contribution of each changed trace by its new one in
every experiment that holds it (``domain/rollups.py``), and counts the experiments' traces
and dataset items again where items came or went. Reading an experiment's aggregates is
then one row and its sums (``ExperimentRollupRepository.for_experiments``).

Concurrent writers on PostgreSQL: ``settle`` first takes transaction-scoped advisory
locks on the changed traces (hashed into a few keys), then locks the experiments' rollup rows, both in sorted order, and
only then reads what the traces add up to. Each statement under READ COMMITTED sees what
committed before it, so a score written while another writer links its trace to an
experiment is counted by whichever of the two settles second. SQLite has one writer.

The same settle keeps the compare view's runs (``experiment_runs.py``): the runs of the
changed traces, and which item row each run shows when a dataset's item rows changed
(``note_dataset_items``). Locks are always taken in one order: traces, experiments,
datasets; a unit of work that changed item rows that runs show first locks every trace
key, as any trace's run may be one of them.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.experiments import PERCENTILES, Aggregates, Percentiles
from seedbed.domain.rollups import (
    ASSERTION,
    SCORE,
    USAGE,
    Contribution,
    ExperimentChange,
    interpolated,
    percentile_positions,
)
from seedbed.storage import advisory_locks
from seedbed.storage import dialect as sql_dialect
from seedbed.storage.repositories import experiment_aggregates as aggregates
from seedbed.storage.repositories.experiment_runs import ExperimentRunRepository
from seedbed.storage.tables import (
    experiment_items,
    experiment_rollup_sums,
    experiment_rollups,
    experiment_traces,
    experiments,
    traces,
)

_PENDING = "seedbed_rollups_pending"
TRACE_LOCKS = advisory_locks.LockSpace(0x5EEDB0_0000)


@dataclass
class _Pending:
    """What a unit of work changed, per workspace."""

    traces: dict[str, set[str]] = field(default_factory=dict)
    # (workspace, experiment_id, trace_id, dataset_item_id) → items added (negative: removed)
    items: Counter = field(default_factory=Counter)
    # dataset id → items whose rows were written, closed or deleted (None: all of them)
    dataset_items: dict[str, set[str] | None] = field(default_factory=dict)


def _pending(connection: Connection) -> _Pending:
    return connection.info.setdefault(_PENDING, _Pending())


def note_traces(connection: Connection, workspace: str, trace_ids: Iterable[str]) -> None:
    """These traces' durations, spans or scores may have changed."""
    _pending(connection).traces.setdefault(workspace, set()).update(trace_ids)


def note_items(connection: Connection, rows: Iterable, sign: int) -> None:
    """Experiment items were added (``sign`` 1) or removed (-1); each row has
    ``workspace``, ``experiment_id``, ``trace_id`` and ``dataset_item_id``."""
    items = _pending(connection).items
    for row in rows:
        items[(row.workspace, row.experiment_id, row.trace_id, row.dataset_item_id)] += sign


def note_dataset_items(
    connection: Connection, dataset_id: str, item_ids: Iterable[str] | None
) -> None:
    """Rows of these dataset items were added, closed or deleted (``None``: of all its
    items, the dataset was deleted)."""
    noted = _pending(connection).dataset_items
    if item_ids is None or noted.get(dataset_id, set()) is None:
        noted[dataset_id] = None
    else:
        noted.setdefault(dataset_id, set()).update(item_ids)


def forget(connection: Connection) -> None:
    """Drop what was noted (a unit of work that rolled back)."""
    connection.info.pop(_PENDING, None)


def settle(connection: Connection) -> None:
    """Bring the rollups up to date with what this unit of work noted."""
    pending = connection.info.pop(_PENDING, None)
    if pending is None:
        return
    repository = ExperimentRollupRepository(connection)
    runs = ExperimentRunRepository(connection)
    changed_rows = pending.dataset_items
    if changed_rows and repository.dialect == "postgresql" and runs.have_runs(changed_rows):
        repository.lock_every_trace()
    workspaces = set(pending.traces) | {key[0] for key in pending.items}
    for workspace in sorted(workspaces):
        items = {key[1:]: count for key, count in pending.items.items() if key[0] == workspace}
        repository.apply(
            workspace, pending.traces.get(workspace, set()), items, changed_datasets=changed_rows
        )
    runs.refresh_item_rows(changed_rows)


class ExperimentRollupRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    # -- keeping them ------------------------------------------------------------------------

    def apply(
        self,
        workspace: str,
        changed: set[str],
        items: dict[tuple[str, str, str], int],
        changed_datasets: Iterable[str] = (),
        with_runs: bool = True,
    ) -> None:
        """Apply changed traces and items (``(experiment, trace, dataset item)`` → items
        added, negative when removed) to the experiments holding them, and write their
        runs again (``changed_datasets``: those whose item rows changed too)."""
        trace_ids = sorted(changed | {trace_id for _, trace_id, _ in items})
        if not trace_ids:
            return
        self._lock_traces(trace_ids)
        linked = self._links(workspace, trace_ids)
        touched_pairs = {(experiment_id, trace_id) for experiment_id, trace_id, _ in items}
        linked_now = self._pairs_with_items(workspace, touched_pairs)
        experiment_ids = sorted({pair[0] for pair in linked} | {pair[0] for pair in touched_pairs})
        if not experiment_ids:
            return
        self._lock_experiments(experiment_ids)
        shares = self.contributions(workspace, trace_ids)
        if with_runs:
            ExperimentRunRepository(self.connection).refresh(
                workspace, trace_ids, shares, changed_datasets
            )
        changes = {experiment_id: ExperimentChange() for experiment_id in experiment_ids}
        kept: list[dict] = []
        dropped: list[tuple[str, str]] = []
        for pair in sorted(set(linked) | touched_pairs):
            before = linked.get(pair)
            after = shares[pair[1]] if pair in linked_now or pair not in touched_pairs else None
            if before == after:
                continue
            change = changes[pair[0]]
            change.replace(before, after)
            change.trace_count += (after is not None) - (before is not None)
            if after is None:
                dropped.append(pair)
            else:
                kept.append(_link_row(pair, after))
        self._count_dataset_items(items, changes)
        self._write_links(kept, dropped)
        self._write_changes({key: value for key, value in changes.items() if not value.is_empty()})

    def _lock_traces(self, trace_ids: list[str]) -> None:
        advisory_locks.lock(self.connection, TRACE_LOCKS.keys(trace_ids))

    def lock_every_trace(self) -> None:
        advisory_locks.lock(self.connection, TRACE_LOCKS.every_key())

    def _links(self, workspace: str, trace_ids: list[str]) -> dict[tuple[str, str], Contribution]:
        """The workspace's experiments that hold these traces, with what each adds."""
        table = experiment_traces.c
        found = {}
        for chunk in sql_dialect.in_batches(self.dialect, trace_ids):
            rows = self.connection.execute(
                sa.select(table.experiment_id, table.trace_id, table.contribution)
                .select_from(
                    experiment_traces.join(experiments, experiments.c.id == table.experiment_id)
                )
                .where(
                    sql_dialect.one_of(self.dialect, table.trace_id, chunk),
                    experiments.c.workspace == workspace,
                )
            )
            for row in rows:
                found[(row.experiment_id, row.trace_id)] = Contribution.from_json(row.contribution)
        return found

    def _pairs_with_items(
        self, workspace: str, pairs: set[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Which (experiment, trace) pairs have an experiment item now."""
        items = experiment_items.c
        found = set()
        for chunk in sql_dialect.in_batches(
            self.dialect, sorted({trace_id for _, trace_id in pairs})
        ):
            rows = self.connection.execute(
                sa.select(items.experiment_id, items.trace_id)
                .where(
                    sql_dialect.one_of(self.dialect, items.trace_id, chunk),
                    items.workspace == workspace,
                )
                .distinct()
            )
            found.update((row.experiment_id, row.trace_id) for row in rows)
        return found & pairs

    def _lock_experiments(self, experiment_ids: list[str]) -> None:
        """Make sure each experiment has a rollup row, and lock them in order."""
        zero = {
            "trace_count": 0,
            "dataset_item_count": 0,
            "duration_count": 0,
            "cost_total": 0.0,
            "cost_traces": 0,
        }
        self.connection.execute(
            sql_dialect.insert_ignoring_conflicts(self.dialect, experiment_rollups),
            [{"experiment_id": experiment_id, **zero} for experiment_id in experiment_ids],
        )
        if self.dialect == "postgresql":
            self.connection.execute(
                sa.select(experiment_rollups.c.experiment_id)
                .where(experiment_rollups.c.experiment_id.in_(experiment_ids))
                .order_by(experiment_rollups.c.experiment_id)
                .with_for_update()
            ).all()

    def contributions(self, workspace: str, trace_ids: list[str]) -> dict[str, Contribution]:
        """What each trace adds now, by the definitions in ``experiment_aggregates``
        applied to one trace at a time (each trace its own group). Only traces that
        experiment items link count: the others add to no experiment."""
        durations: dict[str, float | None] = {}
        costs: dict[str, float | None] = {}
        sums: dict[str, dict[tuple[str, str], float]] = {}
        items = experiment_items.c
        for chunk in sql_dialect.in_batches(self.dialect, trace_ids):
            runs = (
                sa.select(items.trace_id.label("group_id"), items.trace_id)
                .where(
                    sql_dialect.one_of(self.dialect, items.trace_id, chunk),
                    items.workspace == workspace,
                )
                .distinct()
                .subquery("runs")
            )
            execute = self.connection.execute
            for row in execute(
                sa.select(traces.c.id, traces.c.duration_ms).where(
                    traces.c.workspace == workspace,
                    sql_dialect.one_of(self.dialect, traces.c.id, chunk),
                )
            ):
                durations[row.id] = row.duration_ms
            for row in execute(aggregates.costs(runs, workspace)):
                costs[row.group_id] = row.total
            for kind, query in (
                (SCORE, aggregates.score_averages(runs, workspace)),
                (ASSERTION, aggregates.score_averages(runs, workspace, assertions=True)),
                (USAGE, aggregates.usage_averages(runs, workspace, self.dialect)),
            ):
                for row in execute(query):
                    name = row[1]  # a score name or a usage key
                    sums.setdefault(row.group_id, {})[(kind, name)] = row.value
        return {
            trace_id: Contribution(
                durations.get(trace_id), costs.get(trace_id), sums.get(trace_id, {})
            )
            for trace_id in trace_ids
        }

    def _count_dataset_items(
        self, items: dict[tuple[str, str, str], int], changes: dict[str, ExperimentChange]
    ) -> None:
        """A dataset item counts once per experiment, however many items link it."""
        added: Counter = Counter()
        for (experiment_id, _, dataset_item_id), count in items.items():
            added[(experiment_id, dataset_item_id)] += count
        if not added:
            return
        table = experiment_items.c
        now: Counter = Counter()
        by_experiment: dict[str, list[str]] = {}
        for experiment_id, dataset_item_id in added:
            by_experiment.setdefault(experiment_id, []).append(dataset_item_id)
        for experiment_id, dataset_item_ids in sorted(by_experiment.items()):
            for chunk in sql_dialect.in_batches(self.dialect, sorted(dataset_item_ids)):
                rows = self.connection.execute(
                    sa.select(table.dataset_item_id, sa.func.count())
                    .where(
                        table.experiment_id == experiment_id,
                        sql_dialect.one_of(self.dialect, table.dataset_item_id, chunk),
                    )
                    .group_by(table.dataset_item_id)
                )
                for dataset_item_id, count in rows:
                    now[(experiment_id, dataset_item_id)] = count
        for (experiment_id, dataset_item_id), count in added.items():
            after = now[(experiment_id, dataset_item_id)]
            before = after - count
            changes[experiment_id].dataset_item_count += (after > 0) - (before > 0)

    def _write_links(self, kept: list[dict], dropped: list[tuple[str, str]]) -> None:
        table = experiment_traces
        if kept:
            upsert = sql_dialect.insert_or_update(
                self.dialect,
                table,
                lambda new: {"duration_ms": new.duration_ms, "contribution": new.contribution},
            )
            self.connection.execute(upsert, kept)
        if dropped:
            self.connection.execute(
                table.delete().where(
                    table.c.experiment_id == sa.bindparam("e"),
                    table.c.trace_id == sa.bindparam("t"),
                ),
                [{"e": experiment_id, "t": trace_id} for experiment_id, trace_id in dropped],
            )

    def _write_changes(self, changes: dict[str, ExperimentChange]) -> None:
        if not changes:
            return
        rollup = experiment_rollups.c
        self.connection.execute(
            experiment_rollups.update()
            .where(rollup.experiment_id == sa.bindparam("e"))
            .values(
                trace_count=rollup.trace_count + sa.bindparam("traces", type_=sa.Integer),
                dataset_item_count=rollup.dataset_item_count
                + sa.bindparam("items", type_=sa.Integer),
                cost_total=rollup.cost_total + sa.bindparam("cost", type_=sa.Float),
                cost_traces=rollup.cost_traces + sa.bindparam("costed", type_=sa.Integer),
            ),
            [
                {
                    "e": experiment_id,
                    "traces": change.trace_count,
                    "items": change.dataset_item_count,
                    "cost": change.cost_total,
                    "costed": change.cost_traces,
                }
                for experiment_id, change in sorted(changes.items())
            ],
        )
        sums = [
            {"experiment_id": experiment_id, "kind": kind, "name": name, "total": t, "traces": n}
            for experiment_id, change in sorted(changes.items())
            for (kind, name), (t, n) in sorted(change.sums.items())
            if t or n
        ]
        if sums:
            table = experiment_rollup_sums
            upsert = sql_dialect.insert_or_update(
                self.dialect,
                table,
                lambda new: {
                    "total": table.c.total + new.total,
                    "traces": table.c.traces + new.traces,
                },
            )
            self.connection.execute(upsert, sums)
            self.connection.execute(
                table.delete().where(
                    table.c.experiment_id.in_(sorted(changes)), table.c.traces <= 0
                )
            )
        for experiment_id in sorted(changes):
            if changes[experiment_id].durations_changed:
                self._refresh_percentiles(experiment_id)

    def _refresh_percentiles(self, experiment_id: str) -> None:
        """Duration percentiles from the experiment's traces, read in order from the index
        on (experiment, duration): two values per percentile."""
        links = experiment_traces.c
        timed = sa.and_(links.experiment_id == experiment_id, links.duration_ms.is_not(None))
        count = self.connection.execute(
            sa.select(sa.func.count()).select_from(experiment_traces).where(timed)
        ).scalar_one()
        values = {}
        for name, percent in PERCENTILES:
            value = None
            if count:
                below, weight = percentile_positions(count, percent)
                nearest = (
                    self.connection.execute(
                        sa.select(links.duration_ms)
                        .where(timed)
                        .order_by(links.duration_ms)
                        .limit(2)
                        .offset(below)
                    )
                    .scalars()
                    .all()
                )
                value = interpolated(nearest[0], nearest[1] if len(nearest) > 1 else None, weight)
            values[f"duration_{name}"] = value
        self.connection.execute(
            experiment_rollups.update()
            .where(experiment_rollups.c.experiment_id == experiment_id)
            .values(duration_count=count, **values)
        )

    def forget_experiments(self, experiment_ids: list[str], with_runs: bool = True) -> None:
        """Deleted experiments keep no rollups, nor runs."""
        if with_runs:
            ExperimentRunRepository(self.connection).forget_experiments(experiment_ids)
        for table in (experiment_traces, experiment_rollups, experiment_rollup_sums):
            self.connection.execute(table.delete().where(table.c.experiment_id.in_(experiment_ids)))

    def rebuild(self, workspace: str, with_runs: bool = True) -> None:
        """Every experiment's rollups of a workspace from scratch (a new database, or one
        whose rollups predate them); ``with_runs``: and their runs."""
        items = experiment_items.c
        experiment_ids = list(
            self.connection.execute(
                sa.select(experiments.c.id).where(experiments.c.workspace == workspace)
            ).scalars()
        )
        self.forget_experiments(experiment_ids, with_runs)
        rows = self.connection.execute(
            sa.select(items.experiment_id, items.trace_id, items.dataset_item_id, sa.func.count())
            .where(items.workspace == workspace)
            .group_by(items.experiment_id, items.trace_id, items.dataset_item_id)
        )
        added = {(row[0], row[1], row[2]): row[3] for row in rows}
        if added:
            self.apply(workspace, set(), added, with_runs=with_runs)

    def rebuild_runs(self, workspace: str, batch: int = 5000) -> None:
        """The compare view's runs of a workspace from scratch (a database whose runs
        predate them), written as the live path writes them."""
        items = experiment_items.c
        trace_ids = list(
            self.connection.execute(
                sa.select(items.trace_id)
                .where(items.workspace == workspace)
                .distinct()
                .order_by(items.trace_id)
            ).scalars()
        )
        runs = ExperimentRunRepository(self.connection)
        for start in range(0, len(trace_ids), batch):
            chunk = trace_ids[start : start + batch]
            runs.refresh(workspace, chunk, self.contributions(workspace, chunk))

    # -- reading them ------------------------------------------------------------------------

    def for_experiments(self, experiment_ids: list[str]) -> dict[str, Aggregates]:
        """Each experiment's aggregates (suite pass rates aside)."""
        found = {experiment_id: Aggregates() for experiment_id in experiment_ids}
        if not experiment_ids:
            return found
        rollup = experiment_rollups.c
        for row in self.connection.execute(
            sa.select(experiment_rollups).where(rollup.experiment_id.in_(experiment_ids))
        ):
            aggregates = found[row.experiment_id]
            aggregates.trace_count = row.trace_count
            aggregates.dataset_item_count = row.dataset_item_count
            if row.duration_count:
                aggregates.duration = Percentiles(
                    row.duration_p50, row.duration_p90, row.duration_p99
                )
            if row.cost_traces:
                aggregates.total_estimated_cost = row.cost_total
                aggregates.total_estimated_cost_avg = row.cost_total / row.cost_traces
        sums = experiment_rollup_sums.c
        for row in self.connection.execute(
            sa.select(experiment_rollup_sums)
            .where(sums.experiment_id.in_(experiment_ids))
            .order_by(sums.experiment_id, sums.kind, sums.name)
        ):
            average = row.total / row.traces
            target = {
                SCORE: found[row.experiment_id].feedback_scores,
                ASSERTION: found[row.experiment_id].assertion_scores,
                USAGE: found[row.experiment_id].usage,
            }[row.kind]
            target[row.name] = average
        return found

    def score_names(self, workspace: str, experiment_ids: list[str] | None) -> list[str]:
        """The feedback score names of experiments (all of the workspace's without ids),
        assertions left out."""
        sums = experiment_rollup_sums.c
        mine = sa.select(experiments.c.id).where(experiments.c.workspace == workspace)
        if experiment_ids is not None:
            mine = mine.where(experiments.c.id.in_(experiment_ids))
        query = (
            sa.select(sums.name)
            .where(sums.kind == SCORE, sums.experiment_id.in_(mine))
            .distinct()
            .order_by(sums.name)
        )
        return list(self.connection.execute(query).scalars())


def with_rollups(experiments_table: sa.Table):
    """Experiments joined with their rollups, for ``rollup_columns``."""
    return experiments_table.outerjoin(
        experiment_rollups, experiment_rollups.c.experiment_id == experiments_table.c.id
    )


def rollup_columns() -> dict[str, sa.ColumnElement]:
    """Listing columns of an experiment's aggregates, for filters and sorting (on
    ``with_rollups``)."""
    rollup = experiment_rollups.c
    return {
        "trace_count": sa.func.coalesce(rollup.trace_count, 0),
        "dataset_item_count": sa.func.coalesce(rollup.dataset_item_count, 0),
        "duration.p50": rollup.duration_p50,
        "duration.p90": rollup.duration_p90,
        "duration.p99": rollup.duration_p99,
        "total_estimated_cost": sa.case((rollup.cost_traces > 0, rollup.cost_total)),
        "total_estimated_cost_avg": sa.case(
            (rollup.cost_traces > 0, rollup.cost_total / rollup.cost_traces)
        ),
    }


def score_average(experiment_id, name: str) -> sa.ColumnElement:
    """An experiment's average of one feedback score, for filters and sorting."""
    sums = experiment_rollup_sums.c
    return (
        sa.select(sums.total / sums.traces)
        .where(sums.experiment_id == experiment_id, sums.kind == SCORE, sums.name == name)
        .scalar_subquery()
    )


def _link_row(pair: tuple[str, str], share: Contribution) -> dict:
    return {
        "experiment_id": pair[0],
        "trace_id": pair[1],
        "duration_ms": share.duration_ms,
        "contribution": share.as_json(),
    }
