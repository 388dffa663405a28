"""The compare view: a dataset's items side by side with what chosen experiments made
of them, filtered, sorted and searched on both; and its stats and output columns."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import InvalidInput
from seedbed.domain.experiments import COMPARE_RUN_FIELDS, COMPARE_SORTABLE, Aggregates, Run
from seedbed.domain.items import Column, Item
from seedbed.domain.queries import CompareViewQuery
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset
from seedbed.services.experiments import require_experiments
from seedbed.storage.repositories.compare import CompareQuery, CompareRepository
from seedbed.storage.repositories.experiment_rollups import ExperimentRollupRepository
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.repositories.runs import RunRepository


@dataclass
class CompareRow:
    item: Item
    runs: list[Run]


@dataclass
class ComparePage:
    content: list[CompareRow]
    page: int
    size: int
    total: int
    columns: list[Column]
    sortable_by: list[str]


@dataclass
class CompareStats:
    experiment_items_count: int
    aggregates: Aggregates


def _experiment_ids(
    connection: Connection, caller: Caller, given: Sequence[str] | None, required: bool = True
) -> list[str] | None:
    wanted = ids.canonical_ids(given, "experiment_ids")
    if wanted is None:
        if required:
            raise InvalidInput("experiment_ids is required: a JSON array of experiment ids")
        return None
    if required and not wanted:
        raise InvalidInput("experiment_ids must name at least one experiment")
    require_experiments(connection, caller, wanted)
    return wanted


def _query(
    connection: Connection, caller: Caller, dataset_id: str, query: CompareViewQuery
) -> CompareQuery:
    dataset = require_dataset(connection, caller, dataset_id)
    wanted = _experiment_ids(connection, caller, query.experiment_ids)
    sort = query.sort
    return CompareQuery(
        workspace=caller.workspace,
        dataset_id=dataset.id,
        experiment_ids=wanted,
        item_filters=[flt for flt in query.filters if flt.field not in COMPARE_RUN_FIELDS],
        run_filters=[flt for flt in query.filters if flt.field in COMPARE_RUN_FIELDS],
        sort=sort,
        search=(query.search or "").strip() or None,
        sort_on_runs=sort is not None and sort.field in COMPARE_RUN_FIELDS,
    )


def compare(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    wanted: CompareViewQuery,
    page: int = 1,
    size: int = 10,
) -> ComparePage:
    """The dataset items that the experiments ran (and that pass the filters), each with
    its matching runs."""
    query = _query(connection, caller, dataset_id, wanted)
    repository = CompareRepository(connection)
    found, total = repository.page(query, page, size)
    runs = RunRepository(connection).runs(
        caller.workspace, repository.runs_of(query, [item.id for item in found])
    )
    by_item: dict[str, list[Run]] = {}
    for run in runs:
        by_item.setdefault(run.item.dataset_item_id, []).append(run)
    columns = ItemRepository(connection).columns(query.dataset_id)
    score_names = ExperimentRollupRepository(connection).score_names(
        caller.workspace, query.experiment_ids
    )
    sortable = [
        *COMPARE_SORTABLE,
        *(f"data.{column.name}" for column in columns),
        *(f"feedback_scores.{name}" for name in score_names),
    ]
    rows = [CompareRow(item, by_item.get(item.id, [])) for item in found]
    return ComparePage(rows, page, size, total, columns, sortable)


def stats(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    wanted: CompareViewQuery,
) -> CompareStats:
    query = _query(connection, caller, dataset_id, wanted)
    count, aggregates = CompareRepository(connection).stats(query)
    return CompareStats(count, aggregates)


def output_columns(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    experiment_ids: Sequence[str] | None = None,
) -> list[Column]:
    """The keys of the outputs the dataset's experiments (or the given ones) produced."""
    dataset = require_dataset(connection, caller, dataset_id)
    wanted = _experiment_ids(connection, caller, experiment_ids, required=False)
    return CompareRepository(connection).output_columns(caller.workspace, dataset.id, wanted)
