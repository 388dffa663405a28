"""Opik routes for dataset items."""

from typing import Literal

from fastapi import APIRouter, Form, Response, UploadFile

from seedbed.api.dependencies import CallerDep, DatabaseDep, Reading, Writing
from seedbed.api.opik import presenters
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.queries import parse_filters, parse_sorting
from seedbed.api.opik.schemas import (
    DatasetItemBatchUpdate,
    DatasetItemBatchWrite,
    DatasetItemPatch,
    DatasetItemsDelete,
    DatasetItemStreamRequest,
    text_or_none,
)
from seedbed.api.opik.streams import json_lines
from seedbed.domain import imports
from seedbed.domain.errors import InvalidInput
from seedbed.domain.items import ITEM_FIELDS
from seedbed.domain.queries import ItemQuery
from seedbed.services import datasets, items

router = APIRouter(tags=["Datasets"])


@router.put("/datasets/items", status_code=204)
def upsert_items(body: DatasetItemBatchWrite, database: DatabaseDep, caller: CallerDep) -> None:
    # The unit of work starts once the batch is validated and its drafts are built (not
    # as a ``Writing`` dependency, which FastAPI opens before it validates the body): on
    # SQLite the write lock is then held for the writing alone, while the parallel
    # batches of one upload are read and checked.
    drafts = [item.as_draft() for item in body.items]
    with database.writing() as connection:
        items.upsert_items(
            connection,
            caller,
            drafts,
            dataset_id=text_or_none(body.dataset_id),
            dataset_name=body.dataset_name,
            batch_group_id=text_or_none(body.batch_group_id),
            copy_from_dataset_id=text_or_none(body.copy_from_dataset_id),
            copy_from_version_id=text_or_none(body.copy_from_version_id),
        )


@router.patch("/datasets/items/batch", status_code=204)
def update_items(body: DatasetItemBatchUpdate, connection: Writing, caller: CallerDep) -> None:
    change = body.update
    data = dict(change.data or {})
    # Opik's older item fields live in data under their own names.
    for legacy in ("input", "expected_output", "metadata"):
        if getattr(change, legacy) is not None:
            data[legacy] = getattr(change, legacy)
    update = items.ItemUpdate(
        data=data or None,
        tags=change.tags,
        tags_to_add=change.tags_to_add,
        tags_to_remove=change.tags_to_remove,
        evaluators=change.evaluators,
        execution_policy=change.execution_policy,
        clear_execution_policy=change.clear_execution_policy,
        merge_tags=body.merge_tags,
    )
    items.update_items(
        connection,
        caller,
        update,
        item_ids=[str(item_id) for item_id in body.ids] if body.ids else None,
        dataset_id=text_or_none(body.dataset_id),
        filters=parse_filters([entry.model_dump() for entry in body.filters or []], ITEM_FIELDS),
    )


@router.post("/datasets/items/stream")
def stream_items(
    body: DatasetItemStreamRequest, connection: Reading, caller: CallerDep
) -> Response:
    found = items.stream_items(
        connection,
        caller,
        body.dataset_name,
        last_retrieved_id=text_or_none(body.last_retrieved_id),
        limit=body.steam_limit,
        version=body.dataset_version,
        filters=parse_filters(body.filters, ITEM_FIELDS),
    )
    return json_lines(presenters.item(item) for item in found)


@router.post("/datasets/items/delete", status_code=204)
def delete_items(body: DatasetItemsDelete, connection: Writing, caller: CallerDep) -> None:
    items.delete_items(
        connection,
        caller,
        item_ids=[str(item_id) for item_id in body.item_ids] if body.item_ids else None,
        dataset_id=text_or_none(body.dataset_id),
        filters=parse_filters([entry.model_dump() for entry in body.filters or []], ITEM_FIELDS),
        batch_group_id=text_or_none(body.batch_group_id),
    )


def _read_upload(file: UploadFile) -> str:
    raw = file.file.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the uploaded file must be UTF-8 text") from None


def _import(connection, caller, dataset_id: str, text: str, file_format: str) -> None:
    dataset = datasets.require_dataset(connection, caller, dataset_id)
    items.import_rows(connection, caller, dataset, imports.read_rows(text, file_format))


@router.post("/datasets/items/from-csv", status_code=202)
def upload_csv(
    file: UploadFile, connection: Writing, caller: CallerDep, dataset_id: str = Form()
) -> None:
    # Processed before answering (not in the background as in Opik): when the 202 arrives
    # the items are there, and a bad file is a 400 instead of a silent failure.
    _import(connection, caller, dataset_id, _read_upload(file), "csv")


@router.post("/datasets/items/from-json", status_code=202)
def upload_json(
    file: UploadFile,
    connection: Writing,
    caller: CallerDep,
    dataset_id: str = Form(),
    format: Literal["json", "jsonl"] = Form(),
) -> None:
    _import(connection, caller, dataset_id, _read_upload(file), format)


@router.get("/datasets/items/{dataset_item_id}")
def get_item(dataset_item_id: str, connection: Reading, caller: CallerDep) -> dict:
    return presenters.item(items.get_item(connection, caller, dataset_item_id))


@router.patch("/datasets/items/{dataset_item_id}", status_code=204)
def patch_item(
    dataset_item_id: str, body: DatasetItemPatch, connection: Writing, caller: CallerDep
) -> None:
    changes = body.model_dump(mode="json", exclude_unset=True)
    items.patch_item(connection, caller, dataset_item_id, changes)


@router.get("/datasets/{dataset_id}/items")
def list_items(
    dataset_id: str,
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    version: str | None = None,
    filters: str | None = None,
    sorting: str | None = None,
    truncate: bool = False,
) -> dict:
    query = ItemQuery(
        version=version,
        filters=parse_filters(filters, ITEM_FIELDS),
        sort=parse_sorting(sorting, ITEM_FIELDS),
    )
    found = items.list_items(connection, caller, dataset_id, page, size, query)
    return {
        "content": [presenters.item(item, truncate) for item in found.content],
        "page": found.page,
        "size": len(found.content),
        "total": found.total,
        "columns": [presenters.column(column) for column in found.columns],
        "sortableBy": presenters.item_sortable_by(found.columns),
    }
