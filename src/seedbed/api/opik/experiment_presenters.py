"""Experiments, experiment items and the compare view in the JSON shapes Opik's clients
read. Absent values are left out, as Opik does."""

from typing import Any

from seedbed.api.opik.presenters import (
    audit,
    compact,
    item,
    timestamp,
    unless_empty,
    version_summary,
)
from seedbed.api.opik.prompt_presenters import prompt_link
from seedbed.domain.experiment_groups import DATASET_ID, Group, GroupSummary
from seedbed.domain.experiments import (
    Aggregates,
    ExperimentItem,
    Percentiles,
    Run,
    ScoreValue,
    average,
    runs_passed,
)
from seedbed.domain.items import Column, truncate_value
from seedbed.services.compare import CompareRow, CompareStats
from seedbed.services.experiment_groups import ExperimentGroups
from seedbed.services.experiments import ExperimentView


def _named(values: dict[str, float]) -> list[dict[str, Any]] | None:
    return unless_empty([{"name": name, "value": value} for name, value in sorted(values.items())])


def _percentiles(found: Percentiles | None) -> dict[str, float] | None:
    return {"p50": found.p50, "p90": found.p90, "p99": found.p99} if found else None


def experiment(view: ExperimentView) -> dict[str, Any]:
    found, totals = view.experiment, view.aggregates
    suite = totals.suite if found.is_suite else None
    return compact(
        {
            "id": found.id,
            "dataset_name": found.dataset_name,
            "dataset_id": found.dataset_id,
            "project_id": found.project_id,
            "project_name": found.project_name,
            "name": found.name,
            "metadata": found.metadata,
            "tags": unless_empty(found.tags),
            "type": found.type,
            "evaluation_method": found.evaluation_method,
            "optimization_id": found.optimization_id,
            "feedback_scores": _named(totals.feedback_scores),
            "trace_count": totals.trace_count,
            "dataset_item_count": totals.dataset_item_count,
            **audit(found),
            "duration": _percentiles(totals.duration),
            "total_estimated_cost": totals.total_estimated_cost,
            "total_estimated_cost_avg": totals.total_estimated_cost_avg,
            "usage": unless_empty(totals.usage),
            "status": found.status,
            "experiment_scores": _named(found.experiment_scores),
            "prompt_version": prompt_link(view.prompt_versions[0])
            if view.prompt_versions
            else None,
            "prompt_versions": unless_empty([prompt_link(link) for link in view.prompt_versions]),
            "dataset_version_id": view.version.id if view.version else None,
            "dataset_version_summary": version_summary(view.version),
            "pass_rate": suite.pass_rate if suite else None,
            "passed_count": suite.passed_count if suite else None,
            "total_count": suite.total_count if suite else None,
            "assertion_scores": _named(totals.assertion_scores) if suite else None,
        }
    )


def experiment_item(found: ExperimentItem) -> dict[str, Any]:
    return compact(
        {
            "id": found.id,
            "experiment_id": found.experiment_id,
            "dataset_item_id": found.dataset_item_id,
            "trace_id": found.trace_id,
            "project_id": found.project_id,
            **audit(found),
        }
    )


def feedback_score(name: str, values: list[ScoreValue]) -> dict[str, Any]:
    """One score of a trace: the average of its authors' latest values, the details of
    the latest, and each author's value."""
    latest = max(values, key=lambda value: value.last_updated_at)
    return compact(
        {
            "name": name,
            "value": average(values),
            "category_name": latest.category_name,
            "reason": latest.reason,
            "source": latest.source,
            **audit(latest),
            "value_by_author": {
                value.author: compact(
                    {
                        "value": value.value,
                        "reason": value.reason,
                        "category_name": value.category_name,
                        "source": value.source,
                        "last_updated_at": timestamp(value.last_updated_at),
                        "author": value.author,
                    }
                )
                for value in values
            },
        }
    )


def run(found: Run, truncate: bool = False) -> dict[str, Any]:
    """An experiment item with its trace, as the compare view and item stream show it."""
    shown = truncate_value if truncate else (lambda value: value)
    assertions = found.assertions
    return compact(
        {
            "id": found.item.id,
            "experiment_id": found.item.experiment_id,
            "dataset_item_id": found.item.dataset_item_id,
            "trace_id": found.item.trace_id,
            "project_id": found.item.project_id,
            "input": shown(found.input),
            "output": shown(found.output),
            "feedback_scores": unless_empty(
                [feedback_score(name, values) for name, values in found.feedback_scores.items()]
            ),
            "total_estimated_cost": found.total_estimated_cost,
            "duration": found.duration,
            "usage": unless_empty(found.usage),
            **audit(found.item),
            "execution_policy": found.item.execution_policy,
            "assertion_results": unless_empty(
                [
                    compact(
                        {
                            "value": name,
                            "passed": all(value.value == 1 for value in values),
                            "reason": max(values, key=lambda value: value.last_updated_at).reason,
                        }
                    )
                    for name, values in assertions.items()
                ]
            ),
            "status": ("passed" if found.passed else "failed") if assertions else None,
        }
    )


def _run_summaries(runs: list[Run]) -> dict[str, Any] | None:
    """For evaluation suites: per experiment, how many of the item's runs passed."""
    if not any(found.assertions or found.item.execution_policy for found in runs):
        return None
    by_experiment: dict[str, list[Run]] = {}
    for found in runs:
        by_experiment.setdefault(found.item.experiment_id, []).append(found)
    summaries = {}
    for experiment_id, experiment_runs in by_experiment.items():
        passed, total, item_passed = runs_passed(experiment_runs)
        summaries[experiment_id] = {
            "passed_runs": passed,
            "total_runs": total,
            "status": "passed" if item_passed else "failed",
        }
    return summaries


def compare_row(row: CompareRow, truncate: bool = False) -> dict[str, Any]:
    return compact(
        {
            **item(row.item, truncate),
            "experiment_items": unless_empty([run(found, truncate) for found in row.runs]),
            "run_summaries_by_experiment": _run_summaries(row.runs),
        }
    )


def output_column(found: Column) -> dict[str, Any]:
    return {
        "name": found.name,
        "types": list(found.types),
        "filter_field_prefix": "output",
        "filterField": f"output.{found.name}",
    }


def stats(found: CompareStats) -> dict[str, Any]:
    totals: Aggregates = found.aggregates
    entries: list[dict[str, Any]] = [
        {"name": "experiment_items_count", "type": "COUNT", "value": found.experiment_items_count},
        {"name": "trace_count", "type": "COUNT", "value": totals.trace_count},
    ]
    if totals.total_estimated_cost is not None:
        entries.append(
            {
                "name": "total_estimated_cost",
                "type": "AVG",
                "value": totals.total_estimated_cost_avg,
            }
        )
        entries.append(
            {
                "name": "total_estimated_cost_sum",
                "type": "AVG",
                "value": totals.total_estimated_cost,
            }
        )
    if totals.duration is not None:
        entries.append(
            {"name": "duration", "type": "PERCENTAGE", "value": _percentiles(totals.duration)}
        )
    entries += [
        {"name": f"usage.{key}", "type": "AVG", "value": value}
        for key, value in sorted(totals.usage.items())
    ]
    entries += [
        {"name": f"feedback_scores.{name}", "type": "AVG", "value": value}
        for name, value in sorted(totals.feedback_scores.items())
    ]
    return {"stats": entries}


# -- experiment groups (ExperimentGroupResponse, ExperimentGroupAggregationsResponse) ----


def experiment_groups(found: ExperimentGroups) -> dict[str, Any]:
    """The groups nested by value; only a dataset's group carries a label (its name), as
    in Opik; ``details`` lists each level's labels in the order to show them."""

    def level(groups: dict[str, Group]) -> dict[str, Any]:
        return {
            value: compact(
                {
                    "label": found.label(group) if group.field == DATASET_ID else None,
                    "groups": level(group.children),
                }
            )
            for value, group in groups.items()
        }

    return {
        "content": level(found.top),
        "details": {
            "groups_details": [{"group_sorting": labels} for labels in found.sorted_labels()]
        },
    }


def group_aggregations(found: ExperimentGroups) -> dict[str, Any]:
    """The groups nested by value, each with its label and what its experiments add up to."""

    def level(groups: dict[str, Group]) -> dict[str, Any]:
        return {
            value: {
                "label": found.label(group),
                "aggregations": _summary(found.summary(group)),
                "groups": level(group.children),
            }
            for value, group in groups.items()
        }

    return {"content": level(found.top)}


def _summary(summary: GroupSummary) -> dict[str, Any]:
    return compact(
        {
            "experiment_count": summary.experiment_count,
            "trace_count": summary.trace_count,
            "total_estimated_cost": summary.total_estimated_cost,
            "total_estimated_cost_avg": summary.total_estimated_cost_avg,
            "duration": _percentiles(summary.duration),
            "feedback_scores": _named(summary.feedback_scores),
            "experiment_scores": _named(summary.experiment_scores),
            "pass_rate_avg": summary.pass_rate_avg,
            "passed_count_sum": summary.passed_count_sum,
            "total_count_sum": summary.total_count_sum,
        }
    )
