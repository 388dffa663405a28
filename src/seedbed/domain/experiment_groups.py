"""Experiments grouped by fields, as Opik's experiments page groups them: by dataset, by
project, by a metadata key, by tag, or nested (dataset, then ``metadata.model``).

Each level keys its groups by the experiments' value (a dataset's or project's id, the
metadata value as text, a tag); an experiment without a value at some level is left out
of that level and below. An experiment with several tags is in each tag's group. A
group's aggregates are computed over the experiments in it (each counted once).
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from seedbed.domain.errors import InvalidInput
from seedbed.domain.experiments import Aggregates, Experiment, Percentiles

DATASET_ID = "dataset_id"
PROJECT_ID = "project_id"
METADATA = "metadata"
TAGS = "tags"
# The type each field is grouped as (Opik's FieldType), which a request may repeat.
GROUP_FIELD_TYPES = {
    DATASET_ID: "string",
    PROJECT_ID: "string",
    METADATA: "dictionary",
    TAGS: "list",
}
DELETED_DATASET = "__DELETED"  # the label of a dataset that no longer exists, as in Opik


@dataclass(frozen=True)
class GroupBy:
    field: str
    key: str | None = None


def make_group_by(field: Any, key: Any = None, type: Any = None) -> GroupBy:
    """A grouping level, checked: a known field, of its type, with a key for metadata."""
    if field not in GROUP_FIELD_TYPES:
        raise InvalidInput(
            f"Invalid grouping field: {field}. Supported fields are: "
            f"[{', '.join(GROUP_FIELD_TYPES)}]"
        )
    if type is not None and str(type).lower() != GROUP_FIELD_TYPES[field]:
        raise InvalidInput(f"Invalid field type '{type}' for grouping field '{field}'")
    if field == METADATA:
        if not isinstance(key, str) or not key.strip():
            raise InvalidInput(f"Key must be specified for json field '{field}'")
        return GroupBy(field, key)
    return GroupBy(field)


def _metadata_value(metadata: Any, key: str) -> str | None:
    if not isinstance(metadata, dict) or metadata.get(key) is None:
        return None
    value = metadata[key]
    return value if isinstance(value, str) else json.dumps(value)


def values_of(experiment: Experiment, level: GroupBy) -> list[str]:
    """The groups an experiment belongs to at one level (none, one, or a tag each)."""
    if level.field == DATASET_ID:
        return [experiment.dataset_id]
    if level.field == PROJECT_ID:
        return [experiment.project_id] if experiment.project_id else []
    if level.field == TAGS:
        return list(dict.fromkeys(experiment.tags))
    value = _metadata_value(experiment.metadata, level.key or "")
    return [value] if value is not None else []


@dataclass
class GroupSummary:
    """What the experiments of a group add up to (Opik's AggregationData)."""

    experiment_count: int = 0
    trace_count: int = 0
    total_estimated_cost: float = 0.0
    total_estimated_cost_avg: float = 0.0
    duration: Percentiles | None = None
    feedback_scores: dict[str, float] = field(default_factory=dict)
    experiment_scores: dict[str, float] = field(default_factory=dict)
    pass_rate_avg: float | None = None
    passed_count_sum: int | None = None
    total_count_sum: int | None = None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _means(named: list[dict[str, float]]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for scores in named:
        for name, value in scores.items():
            values.setdefault(name, []).append(value)
    return {name: sum(found) / len(found) for name, found in sorted(values.items())}


def summarize(members: list[tuple[Experiment, Aggregates]]) -> GroupSummary:
    """Counts and sums over the experiments; averages over those that have the value
    (an experiment's cost per trace, duration percentiles, each score's mean)."""
    aggregates = [totals for _, totals in members]
    durations = [totals.duration for totals in aggregates if totals.duration is not None]
    suites = [
        totals.suite for experiment, totals in members if experiment.is_suite and totals.suite
    ]
    rates = [suite.pass_rate for suite in suites if suite.pass_rate is not None]
    return GroupSummary(
        experiment_count=len(members),
        trace_count=sum(totals.trace_count for totals in aggregates),
        total_estimated_cost=sum(totals.total_estimated_cost or 0.0 for totals in aggregates),
        total_estimated_cost_avg=_mean(
            [t.total_estimated_cost_avg for t in aggregates if t.total_estimated_cost_avg]
        )
        or 0.0,
        duration=Percentiles(
            p50=_mean([d.p50 for d in durations]) or 0.0,
            p90=_mean([d.p90 for d in durations]) or 0.0,
            p99=_mean([d.p99 for d in durations]) or 0.0,
        )
        if durations
        else None,
        feedback_scores=_means([totals.feedback_scores for totals in aggregates]),
        experiment_scores=_means([experiment.experiment_scores for experiment, _ in members]),
        pass_rate_avg=_mean(rates),
        passed_count_sum=sum(suite.passed_count for suite in suites) if suites else None,
        total_count_sum=sum(suite.total_count for suite in suites) if suites else None,
    )


@dataclass
class Group:
    """One group: its value at its level, the experiments in it (with their aggregates)
    and the groups one level down, keyed by value."""

    value: str
    field: str
    members: list[tuple[Experiment, Aggregates]] = field(default_factory=list)
    children: dict[str, "Group"] = field(default_factory=dict)

    @property
    def last_created_at(self) -> dt.datetime:
        return max(experiment.created_at for experiment, _ in self.members)


def group_experiments(
    members: list[tuple[Experiment, Aggregates]], levels: list[GroupBy]
) -> dict[str, Group]:
    """The top-level groups (each holding its nested groups) of the given experiments."""
    top: dict[str, Group] = {}
    for member in members:
        _place(top, member, levels)
    return top


def _place(groups: dict[str, Group], member: tuple[Experiment, Aggregates], levels) -> None:
    if not levels:
        return
    level, deeper = levels[0], levels[1:]
    for value in values_of(member[0], level):
        group = groups.setdefault(value, Group(value, level.field))
        group.members.append(member)
        _place(group.children, member, deeper)


def groups_at_each_level(top: dict[str, Group], depth: int) -> list[list[Group]]:
    """Every group of each level, from the top level down."""
    levels: list[list[Group]] = [list(top.values())]
    while len(levels) < depth:
        levels.append([child for group in levels[-1] for child in group.children.values()])
    return levels


def sorted_labels(groups: list[Group], label_of) -> list[str]:
    """A level's labels, the group with the newest experiment first (then by label), each
    label once: the order Opik's experiments page shows the groups in."""
    newest: dict[str, dt.datetime] = {}
    for group in groups:
        label = label_of(group)
        newest[label] = max(newest.get(label, group.last_created_at), group.last_created_at)
    by_label = sorted(newest.items(), key=lambda entry: entry[0])
    return [label for label, _ in sorted(by_label, key=lambda entry: entry[1], reverse=True)]
