"""Experiment items: the link from a dataset item to the trace one run of it made.

Clients send them in background batches alongside the traces, spans and scores they
point at, in no fixed order: an item may arrive before its trace, so only its experiment
must exist; re-sending an item (same id) changes nothing.
"""

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import InvalidInput, NotFound
from seedbed.domain.experiments import ExperimentItem, Run, statistics_outgrown
from seedbed.domain.feedback_scores import ScoreDraft
from seedbed.domain.projects import DEFAULT_PROJECT
from seedbed.domain.traces import Write
from seedbed.services import feedback_scores, projects, spans, traces
from seedbed.services.context import Caller, utcnow
from seedbed.services.experiments import MAX_STREAM_LIMIT, create_experiment, require_experiments
from seedbed.storage.repositories.experiments import ExperimentRepository
from seedbed.storage.repositories.runs import RunRepository


def create_items(connection: Connection, caller: Caller, items: list[dict[str, Any]]) -> None:
    """Store items as sent (``id``, ``experiment_id``, ``dataset_item_id``, ``trace_id``,
    optional ``project_name`` and ``execution_policy``); a missing id gets a new one."""
    now = utcnow()
    project_ids: dict[str, str] = {}
    rows = []
    for item in items:
        project_name = (item.get("project_name") or "").strip()
        if project_name and project_name not in project_ids:
            project_ids[project_name] = projects.get_or_create_project(
                connection, caller, project_name
            ).id
        rows.append(
            {
                "id": ids.canonical_id(item["id"], "experiment item id")
                if item.get("id")
                else ids.new_id(),
                "workspace": caller.workspace,
                "experiment_id": ids.canonical_id(item["experiment_id"], "experiment_id"),
                "dataset_item_id": ids.canonical_id(item["dataset_item_id"], "dataset_item_id"),
                "trace_id": ids.canonical_id(item["trace_id"], "trace_id"),
                "project_id": project_ids.get(project_name),
                "execution_policy": item.get("execution_policy"),
                "created_at": now,
                "created_by": caller.user,
                "last_updated_at": now,
                "last_updated_by": caller.user,
            }
        )
    if len({row["id"] for row in rows}) != len(rows):
        raise InvalidInput("experiment item ids must be unique within a batch")
    experiment_ids = sorted({row["experiment_id"] for row in rows})
    require_experiments(connection, caller, experiment_ids)
    repository = ExperimentRepository(connection)
    before = repository.item_counts(experiment_ids)
    repository.insert_items(rows)
    after = repository.item_counts(experiment_ids)
    if any(statistics_outgrown(before.get(e, 0), after.get(e, 0)) for e in experiment_ids):
        repository.refresh_statistics()


def get_item(connection: Connection, caller: Caller, item_id: str) -> ExperimentItem:
    found = ExperimentRepository(connection).get_item(
        caller.workspace, ids.canonical_id(item_id, "experiment item id")
    )
    if found is None:
        raise NotFound("Experiment item not found")
    return found


def delete_items(connection: Connection, caller: Caller, item_ids: list[str]) -> None:
    canonical = [ids.canonical_id(item_id, "experiment item id") for item_id in item_ids]
    ExperimentRepository(connection).delete_items(caller.workspace, canonical)


def stream_items(
    connection: Connection,
    caller: Caller,
    experiment_name: str,
    limit: int | None = None,
    last_retrieved_id: str | None = None,
) -> list[Run]:
    """The items of the experiments with this name, newest first below
    ``last_retrieved_id``, each with its trace's input, output and scores."""
    limit = limit or MAX_STREAM_LIMIT
    if not 1 <= limit <= MAX_STREAM_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_STREAM_LIMIT}")
    repository = ExperimentRepository(connection)
    experiment_ids = repository.ids_named(caller.workspace, experiment_name.strip())
    if not experiment_ids:
        raise NotFound("Experiment not found")
    cursor = ids.canonical_id(last_retrieved_id, "last_retrieved_id") if last_retrieved_id else None
    found = repository.stream_items(caller.workspace, experiment_ids, cursor, limit)
    return RunRepository(connection).runs(caller.workspace, found)


@dataclass
class BulkRecord:
    """One run uploaded whole (``PUT experiments/items/bulk``): its dataset item, and
    either the trace it made (with spans) or just the task's result, and its scores."""

    dataset_item_id: str
    trace_id: str
    trace: Write | None = None
    task_result: dict[str, Any] | None = None
    spans: list[Write] = field(default_factory=list)
    scores: list[ScoreDraft] = field(default_factory=list)


def _trace_of(record: BulkRecord, project_name: str) -> Write:
    if record.trace is not None and record.task_result is not None:
        raise InvalidInput(
            f"item {record.dataset_item_id}: give evaluate_task_result or trace, not both"
        )
    if record.trace is not None:
        return (
            record.trace
            if record.trace.names_project
            else replace(record.trace, project_name=project_name)
        )
    now = utcnow()
    fields = {"name": "evaluation_task", "start_time": now, "end_time": now, "source": "experiment"}
    # Without a trace the client sends the task's result, which becomes the trace's output.
    return Write(
        record.trace_id, {**fields, "output": record.task_result}, project_name=project_name
    )


def bulk_upload(
    connection: Connection,
    caller: Caller,
    experiment_name: str,
    dataset_name: str,
    records: list[BulkRecord],
    experiment_id: str | None = None,
    project_name: str | None = None,
) -> None:
    """Record runs in one request: into the experiment ``experiment_id`` names if it
    exists, else into a new experiment (with that id, if given) on ``dataset_name``."""
    project_name = (project_name or "").strip() or DEFAULT_PROJECT
    existing = None
    if experiment_id:
        experiment_id = ids.canonical_id(experiment_id, "experiment_id")
        existing = ExperimentRepository(connection).get(caller.workspace, experiment_id)
    if existing is None:
        existing = create_experiment(
            connection,
            caller,
            dataset_name,
            experiment_id=experiment_id,
            name=experiment_name,
            project_name=project_name,
        )
    traces.write_traces(connection, caller, [_trace_of(record, project_name) for record in records])
    written_spans = [
        span if span.names_project else replace(span, project_name=project_name)
        for record in records
        for span in record.spans
    ]
    if written_spans:
        spans.write_spans(connection, caller, written_spans)
    scores = [
        replace(score, project_name=score.project_name or project_name)
        for r in records
        for score in r.scores
    ]
    if scores:
        feedback_scores.put_scores(connection, caller, "trace", scores)
    create_items(
        connection,
        caller,
        [
            {
                "experiment_id": existing.id,
                "dataset_item_id": record.dataset_item_id,
                "trace_id": record.trace_id,
                "project_name": project_name,
            }
            for record in records
        ],
    )
