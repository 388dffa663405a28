"""Experiments: a run of an app over one version of a dataset, one experiment item per
run of an item, each linking a dataset item to the trace the run made.

What users read about an experiment is aggregated from its traces, spans and feedback
scores when they ask (in SQL, see ``storage.repositories.experiment_aggregates``), never
stored: scores and traces arrive in any order and late, and a stored total would go stale.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind
from seedbed.domain.items import ITEM_FIELDS, ITEM_SORTABLE

EXPERIMENT_TYPES = ("regular", "trial", "mini-batch", "mutation")
EXPERIMENT_STATUSES = ("running", "completed", "cancelled")
EVALUATION_METHODS = ("dataset", "evaluation_suite")
SUITE_METHOD = "evaluation_suite"

# Feedback scores in this category are an evaluation suite's assertion results (the Opik
# client writes them as scores of 1 for passed and 0 for failed); they count towards
# pass rates and assertion scores, not towards feedback score averages.
SUITE_ASSERTION_CATEGORY = "suite_assertion"

# Duration percentiles reported for experiments and compare-view stats.
PERCENTILES = (("p50", 50), ("p90", 90), ("p99", 99))

# What experiments can be filtered on ...
EXPERIMENT_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "name": FieldKind.STRING,
    "metadata": FieldKind.JSON,
    "dataset_id": FieldKind.STRING,
    "project_id": FieldKind.STRING,
    "optimization_id": FieldKind.STRING,
    "type": FieldKind.STRING,
    "status": FieldKind.STRING,
    "tags": FieldKind.LIST,
    "created_at": FieldKind.DATE_TIME,
    "last_updated_at": FieldKind.DATE_TIME,
    "created_by": FieldKind.STRING,
    "last_updated_by": FieldKind.STRING,
    "feedback_scores": FieldKind.NAMED_NUMBER,
    "experiment_scores": FieldKind.NAMED_NUMBER,
    "trace_count": FieldKind.NUMBER,
}
# ... and sorted by (``feedback_scores.<name>``, ``experiment_scores.<name>`` too).
EXPERIMENT_SORTABLE = (
    "id",
    "name",
    "type",
    "status",
    "dataset_id",
    "created_at",
    "last_updated_at",
    "created_by",
    "last_updated_by",
    "trace_count",
    "dataset_item_count",
    "duration.p50",
    "duration.p90",
    "duration.p99",
    "total_estimated_cost",
    "total_estimated_cost_avg",
)
# How each sorts: only keyed kinds differ (they need a name after the dot).
EXPERIMENT_SORT_FIELDS: dict[str, FieldKind] = {
    **{name: FieldKind.STRING for name in EXPERIMENT_SORTABLE},
    "feedback_scores": FieldKind.NAMED_NUMBER,
    "experiment_scores": FieldKind.NAMED_NUMBER,
}

# The compare view filters dataset items on their own fields and on their runs' (the
# experiment items with their traces). A run filter keeps the runs that match; an item
# stays while it keeps one. Sorting on a run field sorts items by the average over runs.
COMPARE_RUN_FIELDS: dict[str, FieldKind] = {
    "output": FieldKind.JSON,
    "feedback_scores": FieldKind.NAMED_NUMBER,
    "duration": FieldKind.NUMBER,
    "total_estimated_cost": FieldKind.NUMBER,
}
COMPARE_FIELDS: dict[str, FieldKind] = {**ITEM_FIELDS, **COMPARE_RUN_FIELDS}
COMPARE_SORTABLE = (*ITEM_SORTABLE, "duration", "total_estimated_cost")
COMPARE_SORT_FIELDS: dict[str, FieldKind] = {
    **{name: FieldKind.STRING for name in COMPARE_SORTABLE},
    "data": FieldKind.JSON,
    "feedback_scores": FieldKind.NAMED_NUMBER,
}


@dataclass
class Experiment:
    id: str
    workspace: str
    dataset_id: str
    dataset_name: str
    dataset_version_sequence: int  # 0: the dataset had no version when it was created
    project_id: str | None
    name: str
    metadata: Any
    tags: list[str]
    type: str
    evaluation_method: str
    optimization_id: str | None
    status: str
    experiment_scores: dict[str, float]  # name -> value
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str
    project_name: str | None = None  # read along, from the project

    @property
    def is_suite(self) -> bool:
        return self.evaluation_method == SUITE_METHOD


@dataclass
class ExperimentItem:
    id: str
    workspace: str
    experiment_id: str
    dataset_item_id: str
    trace_id: str
    project_id: str | None
    execution_policy: dict[str, Any] | None
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str


@dataclass
class Percentiles:
    p50: float
    p90: float
    p99: float


@dataclass
class SuiteResult:
    """How an evaluation-suite experiment did: an item passes when at least
    ``pass_threshold`` of its runs pass; a run passes when none of its assertions failed."""

    passed_count: int
    total_count: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed_count / self.total_count if self.total_count else None


@dataclass
class Aggregates:
    """What an experiment's traces add up to, as of the moment they are read."""

    trace_count: int = 0
    dataset_item_count: int = 0
    feedback_scores: dict[str, float] = field(default_factory=dict)
    duration: Percentiles | None = None
    total_estimated_cost: float | None = None
    total_estimated_cost_avg: float | None = None
    usage: dict[str, float] = field(default_factory=dict)
    suite: SuiteResult | None = None
    assertion_scores: dict[str, float] = field(default_factory=dict)


@dataclass
class ScoreValue:
    """One author's latest value of one score on one trace."""

    name: str
    value: float
    author: str
    reason: str | None
    category_name: str | None
    source: str
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str


@dataclass
class Run:
    """An experiment item with what its trace holds, as the compare view and the item
    stream show it."""

    item: ExperimentItem
    input: Any = None
    output: Any = None
    duration: float | None = None
    total_estimated_cost: float | None = None
    usage: dict[str, int] = field(default_factory=dict)
    scores: list[ScoreValue] = field(default_factory=list)

    @property
    def feedback_scores(self) -> dict[str, list[ScoreValue]]:
        """Scores by name (assertions left out), each name's values by author."""
        grouped: dict[str, list[ScoreValue]] = {}
        for score in self.scores:
            if score.category_name != SUITE_ASSERTION_CATEGORY:
                grouped.setdefault(score.name, []).append(score)
        return grouped

    @property
    def assertions(self) -> dict[str, list[ScoreValue]]:
        grouped: dict[str, list[ScoreValue]] = {}
        for score in self.scores:
            if score.category_name == SUITE_ASSERTION_CATEGORY:
                grouped.setdefault(score.name, []).append(score)
        return grouped

    @property
    def passed(self) -> bool:
        """A run passes when every assertion passed (a value of 1), by every author;
        a run without assertions passes, as in the Opik client."""
        return all(score.value == 1 for values in self.assertions.values() for score in values)


def statistics_outgrown(items_before: int, items_after: int) -> bool:
    """Whether an experiment grew past a doubling (from 512 items on), so the planner's
    picture of the tables it reads is out of date by a factor of two."""
    return items_after >= 512 and items_after.bit_length() > items_before.bit_length()


def pass_threshold(execution_policy: dict[str, Any] | None) -> int:
    threshold = (execution_policy or {}).get("pass_threshold")
    return threshold if isinstance(threshold, int) and threshold >= 1 else 1


def average(values: list[ScoreValue]) -> float:
    """A trace's score: the average of its authors' latest values."""
    return sum(value.value for value in values) / len(values)


def check_types(types: tuple[str, ...] | None) -> tuple[str, ...] | None:
    for value in types or ():
        if value not in EXPERIMENT_TYPES:
            raise InvalidInput(f"types must be among {', '.join(EXPERIMENT_TYPES)}, got {value!r}")
    return types


def runs_passed(runs: list[Run]) -> tuple[int, int, bool]:
    """(passed runs, runs, whether the item passed) for one item's runs in one experiment."""
    passed = sum(1 for run in runs if run.passed)
    threshold = max((pass_threshold(run.item.execution_policy) for run in runs), default=1)
    return passed, len(runs), passed >= threshold
