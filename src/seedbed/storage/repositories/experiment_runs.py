"""The compare view's runs, kept in the transaction of every write that changes them.

A *run* is one experiment item as the compare view sees it (``experiment_runs``): its
experiment's dataset and pinned version, the item row that version shows (``None``: the
item is not in it), and its trace's duration and cost; ``experiment_run_scores`` holds
each of its trace's feedback scores. They are kept by the rollups' ``settle``
(``experiment_rollups.py``) from the same per-trace contributions, so a trace's score
(the average over its authors' latest values), cost and duration have one definition:

- when traces or experiment items change, the runs of those traces are written again;
- when a dataset's item rows change, the runs of those items look up again which row
  their pinned version shows. Only the version being written and the draft (sequence 0)
  can change what they show, but which runs pinned those is no cheaper to find than the
  runs of the items, so those are all looked up.

PostgreSQL, where writers run at once: a new run looks its item row up under an advisory
lock of its dataset, taken after the rollups' trace locks; a unit of work that changed
item rows takes the same dataset locks (in one round with those of its new runs) and,
when kept runs show those items, every trace lock first, as a run written again under
its trace's lock keeps the item row it had. Each statement under READ COMMITTED sees
what committed before it, so whichever of two such writers settles second sees both.
"""

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.rollups import SCORE, Contribution
from seedbed.storage import advisory_locks
from seedbed.storage import dialect as sql_dialect
from seedbed.storage.tables import (
    dataset_items,
    experiment_items,
    experiment_run_scores,
    experiment_runs,
    experiments,
)

_runs = experiment_runs.c
_scores = experiment_run_scores.c
_rows = dataset_items.c
DATASET_LOCKS = advisory_locks.LockSpace(0x5EEDB1_0000)


def visible_at(sequence) -> sa.ColumnElement:
    """Item rows of the version ``sequence`` names (0: the dataset had none, the draft)."""
    pinned = sa.and_(
        sequence > 0,
        _rows.valid_from <= sequence,
        sa.or_(_rows.valid_to.is_(None), _rows.valid_to > sequence),
    )
    return sa.or_(pinned, sa.and_(sequence == 0, _rows.valid_to.is_(None)))


def shown_row(dataset_id, item_id, sequence) -> sa.ScalarSelect:
    """The row of item ``item_id`` of ``dataset_id`` that version ``sequence`` shows."""
    return (
        sa.select(sa.func.max(_rows.row_id))
        .where(_rows.dataset_id == dataset_id, _rows.item_id == item_id, visible_at(sequence))
        .scalar_subquery()
    )


class ExperimentRunRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def refresh(
        self,
        workspace: str,
        trace_ids: list[str],
        shares: Mapping[str, Contribution],
        changed_datasets: Iterable[str] = (),
    ) -> None:
        """Write again the runs of these traces (what they add: ``shares``). A run
        already kept keeps its item row (``refresh_item_rows`` keeps that); a new one
        looks it up, under the locks of its dataset and of ``changed_datasets`` (those
        whose item rows this unit of work changed: one round of locks, in order)."""
        items = experiment_items.c
        for chunk in sql_dialect.in_batches(self.dialect, trace_ids):
            of_chunk = sql_dialect.one_of(self.dialect, _runs.trace_id, chunk)
            kept = dict(
                self.connection.execute(
                    sa.select(_runs.experiment_item_id, _runs.item_row_id).where(of_chunk)
                ).all()
            )
            if kept:
                self._delete(of_chunk)
            found = self.connection.execute(
                sa.select(
                    items.id,
                    items.experiment_id,
                    items.dataset_item_id,
                    items.trace_id,
                    experiments.c.dataset_id,
                    experiments.c.dataset_version_sequence,
                )
                .select_from(
                    experiment_items.join(experiments, experiments.c.id == items.experiment_id)
                )
                .where(
                    items.workspace == workspace,
                    sql_dialect.one_of(self.dialect, items.trace_id, chunk),
                )
            ).all()
            new = [row for row in found if row.id not in kept]
            if new:
                self._lock_datasets({row.dataset_id for row in new} | set(changed_datasets))
                kept.update(self._shown_rows([row.id for row in new]))
            runs, scores = [], []
            for row in found:
                share = shares.get(row.trace_id) or Contribution()
                high, low = ids.as_integers(row.dataset_item_id)
                run = {
                    "experiment_item_id": row.id,
                    "experiment_id": row.experiment_id,
                    "dataset_id": row.dataset_id,
                    "dataset_item_id": row.dataset_item_id,
                    "item_high": high,
                    "item_low": low,
                    "item_row_id": kept.get(row.id),
                }
                runs.append(
                    {
                        **run,
                        "dataset_version_sequence": row.dataset_version_sequence,
                        "trace_id": row.trace_id,
                        "duration_ms": share.duration_ms,
                        "cost": share.cost,
                    }
                )
                scores.extend(
                    {**run, "name": name, "value": value}
                    for (kind, name), value in sorted(share.sums.items())
                    if kind == SCORE
                )
            sql_dialect.bulk_insert(self.connection, experiment_runs, runs)
            sql_dialect.bulk_insert(self.connection, experiment_run_scores, scores)

    def _shown_rows(self, experiment_item_ids: list[str]) -> dict[str, int | None]:
        """experiment item id → the item row its experiment's pinned version shows."""
        items = experiment_items.c
        found = {}
        for chunk in sql_dialect.in_batches(self.dialect, experiment_item_ids):
            found.update(
                self.connection.execute(
                    sa.select(
                        items.id,
                        shown_row(
                            experiments.c.dataset_id,
                            items.dataset_item_id,
                            experiments.c.dataset_version_sequence,
                        ),
                    )
                    .select_from(
                        experiment_items.join(experiments, experiments.c.id == items.experiment_id)
                    )
                    .where(sql_dialect.one_of(self.dialect, items.id, chunk))
                ).all()
            )
        return found

    def _of_items(self, dataset_id: str, item_ids: set[str] | None):
        """Conditions on runs: of these items of a dataset (``None``: all its items)."""
        if item_ids is None:
            yield _runs.dataset_id == dataset_id
            return
        for chunk in sql_dialect.in_batches(self.dialect, sorted(item_ids)):
            yield sa.and_(
                _runs.dataset_id == dataset_id,
                sql_dialect.one_of(self.dialect, _runs.dataset_item_id, chunk),
            )

    def have_runs(self, changed: Mapping[str, set[str] | None]) -> bool:
        """Whether any run (committed) shows one of these dataset items."""
        changed = self._with_experiments(changed)
        return any(
            self.connection.execute(sa.select(sa.literal(1)).where(mine).limit(1)).first()
            for dataset_id, item_ids in sorted(changed.items())
            for mine in self._of_items(dataset_id, item_ids)
        )

    def _with_experiments(
        self, changed: Mapping[str, set[str] | None]
    ) -> dict[str, set[str] | None]:
        """The datasets of ``changed`` that have an experiment (committed): the others
        have no runs to look at, which spares most item writes every runs statement."""
        if not changed:
            return {}
        having = set(
            self.connection.execute(
                sa.select(experiments.c.dataset_id)
                .distinct()
                .where(sql_dialect.one_of(self.dialect, experiments.c.dataset_id, sorted(changed)))
            ).scalars()
        )
        return {dataset_id: items for dataset_id, items in changed.items() if dataset_id in having}

    def refresh_item_rows(self, changed: Mapping[str, set[str] | None]) -> None:
        """Items of datasets (dataset id → item ids, ``None``: all) changed rows: their
        runs look up again which row their pinned version shows."""
        if not changed:
            return
        self._lock_datasets(changed)
        # Under the datasets' locks: a writer of new runs that locked first has committed
        # (its experiment is seen here), one that comes later sees these rows.
        changed = self._with_experiments(changed)
        shown = shown_row(_runs.dataset_id, _runs.dataset_item_id, _runs.dataset_version_sequence)
        for dataset_id, item_ids in sorted(changed.items()):
            for mine in self._of_items(dataset_id, item_ids):
                self.connection.execute(
                    experiment_runs.update().where(mine).values(item_row_id=shown)
                )
                self._copy_item_rows(sa.select(_runs.experiment_item_id).where(mine))

    def _copy_item_rows(self, run_ids) -> None:
        """Score rows carry their run's item row (so a page reads one index)."""
        runs = experiment_runs.alias("run")
        self.connection.execute(
            experiment_run_scores.update()
            .where(_scores.experiment_item_id.in_(run_ids))
            .values(
                item_row_id=sa.select(runs.c.item_row_id)
                .where(runs.c.experiment_item_id == _scores.experiment_item_id)
                .scalar_subquery()
            )
        )

    def forget_experiments(self, experiment_ids: list[str]) -> None:
        """Deleted experiments have no runs."""
        self._delete(_runs.experiment_id.in_(experiment_ids))

    def _delete(self, condition: sa.ColumnElement) -> None:
        """The runs that meet ``condition``, with their scores."""
        gone = sa.select(_runs.experiment_item_id).where(condition)
        self.connection.execute(
            experiment_run_scores.delete().where(_scores.experiment_item_id.in_(gone))
        )
        self.connection.execute(experiment_runs.delete().where(condition))

    def _lock_datasets(self, dataset_ids: Iterable[str]) -> None:
        advisory_locks.lock(self.connection, DATASET_LOCKS.keys(dataset_ids))
