"""Opik routes for datasets."""

from fastapi import APIRouter, Query, Request, Response

from seedbed.api.dependencies import CallerDep, Reading, Writing
from seedbed.api.opik import presenters
from seedbed.api.opik.queries import parse_filters, parse_sorting
from seedbed.api.opik.schemas import BatchDelete, DatasetIdentifier, DatasetUpdate, DatasetWrite
from seedbed.domain.datasets import DATASET_FIELDS, DATASET_SORTABLE
from seedbed.domain.queries import DatasetQuery
from seedbed.services import datasets

router = APIRouter(tags=["Datasets"])

# Opik's page is a 32-bit int; the bound also keeps offsets within both engines' range.
PageQuery = Query(1, ge=1, le=2**31 - 1)
SizeQuery = Query(10, ge=1, le=10_000)


@router.get("/datasets")
def find_datasets(
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    name: str | None = None,
    sorting: str | None = None,
    filters: str | None = None,
    project_id: str | None = None,
    with_experiments_only: bool = False,
) -> dict:
    query = DatasetQuery(
        name=name,
        project_id=project_id,
        with_experiments_only=with_experiments_only,
        filters=parse_filters(filters, DATASET_FIELDS),
        sort=parse_sorting(sorting, DATASET_FIELDS),
    )
    found = datasets.find_datasets(connection, caller, page, size, query)
    return {
        "content": [presenters.dataset(view) for view in found.content],
        "page": found.page,
        "size": len(found.content),
        "total": found.total,
        "sortableBy": list(DATASET_SORTABLE),
    }


@router.post("/datasets", status_code=201, response_class=Response)
def create_dataset(
    body: DatasetWrite, connection: Writing, caller: CallerDep, request: Request
) -> Response:
    created = datasets.create_dataset(
        connection,
        caller,
        name=body.name,
        dataset_id=str(body.id) if body.id else None,
        description=body.description,
        type=body.type,
        visibility=body.visibility,
        tags=body.tags,
        project_id=str(body.project_id) if body.project_id else None,
        project_name=body.project_name,
    )
    return Response(status_code=201, headers={"Location": f"{request.url.path}/{created.id}"})


@router.post("/datasets/retrieve")
def retrieve_dataset(body: DatasetIdentifier, connection: Reading, caller: CallerDep) -> dict:
    found = datasets.require_dataset_by_name(connection, caller, body.dataset_name)
    return presenters.dataset(datasets.view(connection, found))


@router.post("/datasets/delete", status_code=204)
def delete_dataset_by_name(body: DatasetIdentifier, connection: Writing, caller: CallerDep) -> None:
    datasets.delete_dataset_by_name(connection, caller, body.dataset_name)


@router.post("/datasets/delete-batch", status_code=204)
def delete_datasets(body: BatchDelete, connection: Writing, caller: CallerDep) -> None:
    datasets.delete_datasets(connection, caller, [str(dataset_id) for dataset_id in body.ids])


@router.get("/datasets/{dataset_id}")
def get_dataset(dataset_id: str, connection: Reading, caller: CallerDep) -> dict:
    found = datasets.require_dataset(connection, caller, dataset_id)
    return presenters.dataset(datasets.view(connection, found))


@router.put("/datasets/{dataset_id}", status_code=204)
def update_dataset(
    dataset_id: str, body: DatasetUpdate, connection: Writing, caller: CallerDep
) -> None:
    datasets.update_dataset(
        connection,
        caller,
        dataset_id,
        name=body.name,
        description=body.description,
        visibility=body.visibility,
        tags=body.tags,
    )


@router.delete("/datasets/{dataset_id}", status_code=204)
def delete_dataset(dataset_id: str, connection: Writing, caller: CallerDep) -> None:
    datasets.delete_dataset(connection, caller, dataset_id)
