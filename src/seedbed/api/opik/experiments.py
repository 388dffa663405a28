"""Opik routes for experiments, experiment items and the compare view."""

from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from seedbed.api.dependencies import CallerDep, Reading, Writing
from seedbed.api.opik import experiment_presenters as presenters
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.experiment_schemas import (
    ExperimentItemBulkRecord,
    ExperimentItemsBatch,
    ExperimentItemsBulk,
    ExperimentItemStreamRequest,
    ExperimentStreamRequest,
    ExperimentUpdate,
    ExperimentWrite,
    IdList,
)
from seedbed.api.opik.presenters import column
from seedbed.api.opik.queries import parse_filters, parse_sorting, string_list
from seedbed.api.opik.schemas import text_or_none
from seedbed.api.opik.streams import json_lines
from seedbed.domain import ids
from seedbed.domain.experiments import (
    COMPARE_FIELDS,
    COMPARE_SORT_FIELDS,
    EXPERIMENT_FIELDS,
    EXPERIMENT_SORT_FIELDS,
    EXPERIMENT_SORTABLE,
)
from seedbed.domain.queries import CompareViewQuery, ExperimentQuery
from seedbed.services import compare, experiment_items, experiments

router = APIRouter(tags=["Experiments"])


@router.get("/experiments")
def find_experiments(
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    dataset_id: str | None = Query(None, alias="datasetId"),
    optimization_id: str | None = None,
    types: str | None = None,
    name: str | None = None,
    dataset_deleted: bool | None = None,
    prompt_id: str | None = None,
    project_id: str | None = None,
    project_deleted: bool | None = None,
    sorting: str | None = None,
    filters: str | None = None,
    experiment_ids: str | None = None,
    force_sorting: bool = False,  # Opik's switch to sort very large pages; sorting here always applies
) -> dict:
    query = ExperimentQuery(
        dataset_id=dataset_id,
        optimization_id=optimization_id,
        types=string_list(types, "types"),
        name=name,
        dataset_deleted=dataset_deleted,
        prompt_id=prompt_id,
        project_id=project_id,
        project_deleted=project_deleted,
        experiment_ids=string_list(experiment_ids, "experiment_ids"),
        filters=parse_filters(filters, EXPERIMENT_FIELDS),
        sort=parse_sorting(sorting, EXPERIMENT_SORT_FIELDS),
    )
    found = experiments.find_experiments(connection, caller, page, size, query)
    content = [presenters.experiment(view) for view in found.content]
    named = sorted(
        {
            f"feedback_scores.{name}"
            for view in found.content
            for name in view.aggregates.feedback_scores
        }
        | {
            f"experiment_scores.{name}"
            for view in found.content
            for name in view.experiment.experiment_scores
        }
    )
    return {
        "content": content,
        "page": found.page,
        "size": len(content),
        "total": found.total,
        "sortableBy": [*EXPERIMENT_SORTABLE, *named],
    }


@router.post("/experiments", status_code=201, response_class=Response)
def create_experiment(
    body: ExperimentWrite, connection: Writing, caller: CallerDep, request: Request
) -> Response:
    # The single link first: it is the one Opik shows as the experiment's prompt_version.
    links = ([body.prompt_version] if body.prompt_version else []) + (body.prompt_versions or [])
    created = experiments.create_experiment(
        connection,
        caller,
        dataset_name=body.dataset_name,
        experiment_id=text_or_none(body.id),
        name=body.name,
        metadata=body.metadata,
        tags=body.tags,
        type=body.type,
        evaluation_method=body.evaluation_method,
        optimization_id=text_or_none(body.optimization_id),
        status=body.status,
        experiment_scores={score.name: score.value for score in body.experiment_scores or []},
        prompt_version_ids=[str(link.id) for link in links],
        dataset_version_id=text_or_none(body.dataset_version_id),
        project_id=text_or_none(body.project_id),
        project_name=body.project_name,
    )
    return Response(status_code=201, headers={"Location": f"{request.url.path}/{created.id}"})


@router.post("/experiments/delete", status_code=204)
def delete_experiments(body: IdList, connection: Writing, caller: CallerDep) -> None:
    experiments.delete_experiments(
        connection, caller, [str(experiment_id) for experiment_id in body.ids]
    )


@router.post("/experiments/finish", status_code=204)
def finish_experiments(body: IdList, connection: Writing, caller: CallerDep) -> None:
    experiments.finish_experiments(
        connection, caller, [str(experiment_id) for experiment_id in body.ids]
    )


@router.post("/experiments/stream")
def stream_experiments(
    body: ExperimentStreamRequest, connection: Reading, caller: CallerDep
) -> Response:
    found = experiments.stream_experiments(
        connection,
        caller,
        body.name,
        limit=body.limit,
        last_retrieved_id=text_or_none(body.last_retrieved_id),
        project_name=body.project_name,
    )
    return json_lines([presenters.experiment(view) for view in found])


@router.get("/experiments/feedback-scores/names")
def feedback_score_names(
    connection: Reading,
    caller: CallerDep,
    experiment_ids: str | None = None,
    project_id: str | None = None,
) -> dict:
    wanted = string_list(experiment_ids, "experiment_ids")
    names = experiments.feedback_score_names(
        connection, caller, list(wanted) if wanted is not None else None, project_id
    )
    return {"scores": [{"name": name, "type": "feedback_scores"} for name in names]}


@router.post("/experiments/items", status_code=204)
def create_experiment_items(
    body: ExperimentItemsBatch, connection: Writing, caller: CallerDep
) -> None:
    experiment_items.create_items(
        connection,
        caller,
        [entry.model_dump(mode="json", exclude_none=True) for entry in body.experiment_items],
    )


def _bulk_record(record: ExperimentItemBulkRecord) -> experiment_items.BulkRecord:
    trace_id = (
        str(record.trace.id) if record.trace is not None and record.trace.id else ids.new_id()
    )
    return experiment_items.BulkRecord(
        dataset_item_id=str(record.dataset_item_id),
        trace_id=trace_id,
        trace=record.trace.to_write(trace_id) if record.trace is not None else None,
        task_result=record.evaluate_task_result,
        spans=[
            span.model_copy(update={"trace_id": UUID(trace_id)}).to_write(
                str(span.id) if span.id else ids.new_id()
            )
            for span in record.spans or []
        ],
        scores=[score.to_draft(trace_id) for score in record.feedback_scores or []],
    )


@router.put("/experiments/items/bulk", status_code=204)
def upload_experiment_items(
    body: ExperimentItemsBulk, connection: Writing, caller: CallerDep
) -> None:
    experiment_items.bulk_upload(
        connection,
        caller,
        body.experiment_name,
        body.dataset_name,
        [_bulk_record(record) for record in body.items],
        experiment_id=text_or_none(body.experiment_id),
        project_name=body.project_name,
    )


@router.post("/experiments/items/stream")
def stream_experiment_items(
    body: ExperimentItemStreamRequest, connection: Reading, caller: CallerDep
) -> Response:
    found = experiment_items.stream_items(
        connection,
        caller,
        body.experiment_name,
        limit=body.limit,
        last_retrieved_id=text_or_none(body.last_retrieved_id),
    )
    return json_lines([presenters.run(run, body.truncate) for run in found])


@router.post("/experiments/items/delete", status_code=204)
def delete_experiment_items(body: IdList, connection: Writing, caller: CallerDep) -> None:
    experiment_items.delete_items(connection, caller, [str(item_id) for item_id in body.ids])


@router.get("/experiments/items/{experiment_item_id}")
def get_experiment_item(experiment_item_id: str, connection: Reading, caller: CallerDep) -> dict:
    found = experiment_items.get_item(connection, caller, experiment_item_id)
    return presenters.experiment_item(found)


@router.get("/experiments/{experiment_id}")
def get_experiment(experiment_id: str, connection: Reading, caller: CallerDep) -> dict:
    return presenters.experiment(experiments.get_experiment(connection, caller, experiment_id))


@router.patch("/experiments/{experiment_id}", status_code=204)
def update_experiment(
    experiment_id: str, body: ExperimentUpdate, connection: Writing, caller: CallerDep
) -> None:
    experiments.update_experiment(connection, caller, experiment_id, body.to_changes())


def _compare_query(
    experiment_ids: str | None,
    filters: str | None,
    sorting: str | None = None,
    search: str | None = None,
) -> CompareViewQuery:
    return CompareViewQuery(
        experiment_ids=string_list(experiment_ids, "experiment_ids"),
        filters=parse_filters(filters, COMPARE_FIELDS),
        sort=parse_sorting(sorting, COMPARE_SORT_FIELDS),
        search=search,
    )


@router.get("/datasets/{dataset_id}/items/experiments/items", tags=["Datasets"])
def compare_experiments(
    dataset_id: str,
    connection: Reading,
    caller: CallerDep,
    experiment_ids: str | None = None,
    page: int = PageQuery,
    size: int = SizeQuery,
    filters: str | None = None,
    sorting: str | None = None,
    search: str | None = None,
    truncate: bool = False,
) -> dict:
    query = _compare_query(experiment_ids, filters, sorting, search)
    found = compare.compare(connection, caller, dataset_id, query, page, size)
    return {
        "content": [presenters.compare_row(row, truncate) for row in found.content],
        "page": found.page,
        "size": len(found.content),
        "total": found.total,
        "columns": [column(found_column) for found_column in found.columns],
        "sortableBy": found.sortable_by,
    }


@router.get("/datasets/{dataset_id}/items/experiments/items/stats", tags=["Datasets"])
def compare_stats(
    dataset_id: str,
    connection: Reading,
    caller: CallerDep,
    experiment_ids: str | None = None,
    filters: str | None = None,
) -> dict:
    query = _compare_query(experiment_ids, filters)
    return presenters.stats(compare.stats(connection, caller, dataset_id, query))


@router.get("/datasets/{dataset_id}/items/experiments/items/output/columns", tags=["Datasets"])
def compare_output_columns(
    dataset_id: str, connection: Reading, caller: CallerDep, experiment_ids: str | None = None
) -> dict:
    wanted = string_list(experiment_ids, "experiment_ids")
    found = compare.output_columns(connection, caller, dataset_id, wanted)
    return {"columns": [presenters.output_column(found_column) for found_column in found]}
