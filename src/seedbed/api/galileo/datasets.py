"""Galileo's dataset routes: create (a file upload), list, query, read, delete, and the
content (rows) with its ETag."""

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile

from seedbed.api.dependencies import Reading, Writing
from seedbed.api.fastapi_shape import FastAPIShapedRoute
from seedbed.api.galileo import content, presenters, uploads
from seedbed.api.galileo.auth import GalileoCaller
from seedbed.api.galileo.schemas import ContentEdits, DatasetQuery
from seedbed.domain.errors import Unprocessable
from seedbed.services import datasets

router = APIRouter(tags=["Galileo"], route_class=FastAPIShapedRoute)

StartingToken = Annotated[int, Query(ge=0, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=100_000)]
ListLimit = Annotated[int, Query(ge=1, le=10_000)]
NEWEST_FIRST = DatasetQuery().to_service()


@router.post("/datasets")
def create_dataset(
    connection: Writing,
    caller: GalileoCaller,
    file: Annotated[UploadFile | None, File()] = None,
    name: Annotated[str | None, Form()] = None,
    append_suffix_if_duplicate: Annotated[bool, Form()] = False,
    copy_from_dataset_id: Annotated[UUID | None, Form()] = None,
    file_format: Annotated[
        Literal["csv", "feather", "json", "jsonl"], Query(alias="format")
    ] = "csv",
) -> dict:
    if copy_from_dataset_id is not None:
        raise Unprocessable(
            "copy_from_dataset_id is not supported by seedbed: upload the rows instead"
        )
    name = name or (file.filename if file else None)
    if not name or not name.strip():
        raise Unprocessable("a dataset needs a name")
    rows = uploads.parse_rows(file.file.read(), file_format) if file else []
    created = uploads.create_dataset(connection, caller, name, rows, append_suffix_if_duplicate)
    return presenters.dataset(created, content.dataset_columns(connection, created.id))


def _page(connection, caller, starting_token: int, limit: int, query) -> dict:
    views, total = content.find_datasets(connection, caller, starting_token, limit, query)
    shown = [
        presenters.dataset(view.dataset, content.dataset_columns(connection, view.dataset.id))
        for view in views
    ]
    return presenters.datasets_page(shown, starting_token, limit, total)


@router.get("/datasets")
def list_datasets(
    connection: Reading,
    caller: GalileoCaller,
    starting_token: StartingToken = 0,
    limit: ListLimit = 100,
) -> dict:
    return _page(connection, caller, starting_token, limit, NEWEST_FIRST)


@router.post("/datasets/query")
def query_datasets(
    connection: Reading,
    caller: GalileoCaller,
    body: DatasetQuery | None = None,
    starting_token: StartingToken = 0,
    limit: ListLimit = 100,
) -> dict:
    return _page(connection, caller, starting_token, limit, (body or DatasetQuery()).to_service())


@router.get("/datasets/{dataset_id}")
def get_dataset(dataset_id: UUID, connection: Reading, caller: GalileoCaller) -> dict:
    found = datasets.require_dataset(connection, caller, str(dataset_id))
    return presenters.dataset(found, content.dataset_columns(connection, found.id))


@router.delete("/datasets/{dataset_id}")
def delete_dataset(dataset_id: UUID, connection: Writing, caller: GalileoCaller) -> dict:
    found = datasets.require_dataset(connection, caller, str(dataset_id))
    datasets.delete_dataset(connection, caller, found.id)
    return {}


@router.get("/datasets/{dataset_id}/content")
def get_content(
    dataset_id: UUID,
    response: Response,
    connection: Reading,
    caller: GalileoCaller,
    starting_token: StartingToken = 0,
    limit: Limit = 100,
) -> dict:
    page = content.read_content(connection, caller, str(dataset_id), starting_token, limit)
    response.headers["ETag"] = content.content_etag(page.dataset)
    return presenters.content(page)


@router.patch("/datasets/{dataset_id}/content", status_code=204)
def edit_content(
    dataset_id: UUID,
    body: ContentEdits,
    connection: Writing,
    caller: GalileoCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    etag = content.edit_content(connection, caller, str(dataset_id), body.to_service(), if_match)
    return Response(status_code=204, headers={"ETag": etag})
