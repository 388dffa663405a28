"""Comparing two or more experiments of one dataset against the first (the baseline):
per score each experiment's average, the difference and a paired test over the items
both scored; per item whether it improved, regressed or stayed the same, filtered and
paged on the server; and each score's distribution per experiment.

Every item's scores are read once per comparison (one grouped query), since the test
and the per-item filter need all of them; the items, outputs and scores shown are read
for one page only, through the compare view's repositories.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain.datasets import Dataset
from seedbed.domain.errors import InvalidInput
from seedbed.domain.experiment_comparison import (
    ITEM_CHANGES,
    ScoreColumns,
    ScoreComparison,
    compare_scores,
    item_changes,
    score_histogram,
)
from seedbed.domain.experiments import Experiment, Run
from seedbed.domain.items import Item
from seedbed.domain.prompts import PromptVersionLink
from seedbed.services import prompts
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset
from seedbed.services.experiments import require_experiment
from seedbed.storage.repositories.compare import CompareQuery, CompareRepository
from seedbed.storage.repositories.experiment_rollups import ExperimentRollupRepository
from seedbed.storage.repositories.item_scores import ItemScoreRepository
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.repositories.runs import RunRepository

MAX_EXPERIMENTS = 5
MAX_PAGE_SIZE = 200
HISTOGRAM_BINS = 10


@dataclass
class ComparisonRow:
    item_id: str
    item: Item | None  # None: the item is no longer in the dataset's latest version
    change: str
    runs: list[list[Run]]  # per experiment, in the order compared


@dataclass
class ScoreDistribution:
    name: str
    low: float
    high: float
    counts: list[list[int]]  # per experiment, items per bin


@dataclass
class Comparison:
    experiments: list[Experiment]
    dataset: Dataset
    scores: list[ScoreComparison]
    distributions: list[ScoreDistribution]
    changes: dict[str, int]  # items per change, over all items
    rows: list[ComparisonRow]
    change: str | None  # the filter
    page: int
    size: int
    total: int  # items that pass the filter
    prompts: list[list[PromptVersionLink]]  # per experiment: the prompt versions it ran


def parse_experiment_ids(raw: str | None) -> list[str]:
    """``A,B[,C]`` as the compare page's link carries it."""
    wanted = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not 2 <= len(wanted) <= MAX_EXPERIMENTS:
        raise InvalidInput(
            f"compare needs between 2 and {MAX_EXPERIMENTS} experiment ids, comma-separated;"
            " the first is the baseline"
        )
    if len(set(wanted)) != len(wanted):
        raise InvalidInput("an experiment is named twice")
    return wanted


def compare_experiments(
    connection: Connection,
    caller: Caller,
    experiment_ids: list[str],
    change: str | None = None,
    page: int = 1,
    size: int = 25,
) -> Comparison:
    if change is not None and change not in ITEM_CHANGES:
        raise InvalidInput(f"change must be one of {', '.join(ITEM_CHANGES)}")
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page must be at least 1 and size between 1 and {MAX_PAGE_SIZE}")
    experiments = [require_experiment(connection, caller, wanted) for wanted in experiment_ids]
    if len({experiment.dataset_id for experiment in experiments}) > 1:
        raise InvalidInput("the experiments ran on different datasets: compare runs of one dataset")
    dataset = require_dataset(connection, caller, experiments[0].dataset_id)
    ordered = [experiment.id for experiment in experiments]

    item_ids, columns = _score_columns(connection, caller.workspace, ordered)
    changes_by_item = dict(zip(item_ids, item_changes(columns, len(item_ids)), strict=True))
    wanted = [item_id for item_id in item_ids if change in (None, changes_by_item[item_id])]
    shown = wanted[(page - 1) * size : page * size]
    tally = Counter(changes_by_item.values())
    links = prompts.experiment_links(connection, ordered)
    return Comparison(
        experiments=experiments,
        dataset=dataset,
        scores=compare_scores(columns),
        distributions=[_distribution(name, values) for name, values in columns.items()],
        changes={name: tally[name] for name in ITEM_CHANGES},
        rows=_rows(connection, caller, dataset.id, ordered, shown, changes_by_item),
        change=change,
        page=page,
        size=size,
        total=len(wanted),
        prompts=[links.get(experiment_id, []) for experiment_id in ordered],
    )


def _score_columns(
    connection: Connection, caller_workspace: str, experiment_ids: list[str]
) -> tuple[list[str], ScoreColumns]:
    """The items the experiments ran, and every item's scores as columns."""
    names = ExperimentRollupRepository(connection).score_names(caller_workspace, experiment_ids)
    rows = ItemScoreRepository(connection).score_table(caller_workspace, experiment_ids, names)
    if not rows:
        return [], {name: [[] for _ in experiment_ids] for name in names}
    by_column = list(zip(*rows, strict=True))  # transposed in C: 100k rows at once
    count = len(experiment_ids)
    columns = {
        name: [by_column[1 + position * count + index] for index in range(count)]
        for position, name in enumerate(names)
    }
    return list(by_column[0]), columns


def _distribution(name: str, per_experiment: Sequence[Sequence[float | None]]) -> ScoreDistribution:
    present = [value for values in per_experiment for value in values if value is not None]
    low, high = min(present), max(present)
    if 0 <= low and high <= 1:  # the usual range of a score: show it whole
        low, high = 0.0, 1.0
    return ScoreDistribution(
        name,
        low,
        high,
        [score_histogram(values, low, high, HISTOGRAM_BINS) for values in per_experiment],
    )


def _rows(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    experiment_ids: list[str],
    item_ids: list[str],
    changes: dict[str, str],
) -> list[ComparisonRow]:
    items = {item.id: item for item in ItemRepository(connection).live_items(dataset_id, item_ids)}
    query = CompareQuery(caller.workspace, dataset_id, experiment_ids, [], [])
    found = CompareRepository(connection).runs_of(query, item_ids)
    by_key: dict[tuple[str, str], list[Run]] = {}
    for run in RunRepository(connection).runs(caller.workspace, found, with_input=False):
        by_key.setdefault((run.item.dataset_item_id, run.item.experiment_id), []).append(run)
    return [
        ComparisonRow(
            item_id,
            items.get(item_id),
            changes[item_id],
            [by_key.get((item_id, experiment), []) for experiment in experiment_ids],
        )
        for item_id in item_ids
    ]
