"""Opik resources seedbed does not keep: optimizations and attachments. Their listings
answer with an empty, well-formed page, which is the truth here, so the clients that look
at them first carry on: ``opik migrate dataset`` lists a dataset's optimizations before it
moves the dataset, and ``opik export`` lists each trace's and span's attachments.
Creating one stays unserved (404)."""

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Query

from seedbed.api.dependencies import CallerDep, Reading
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.queries import json_list
from seedbed.services import projects

router = APIRouter()


def _empty_page(page: int) -> dict:
    return {"page": page, "size": 0, "total": 0, "content": [], "sortableBy": []}


@router.get("/optimizations", tags=["Optimizations"])
def find_optimizations(
    caller: CallerDep,
    connection: Reading,
    page: int = PageQuery,
    size: int = SizeQuery,
    dataset_id: UUID | None = None,
    name: str | None = None,
    dataset_name: str | None = None,
    dataset_deleted: bool | None = None,
    project_id: UUID | None = None,
    filters: str | None = None,
) -> dict:
    json_list(filters, "filters")  # malformed filters are refused, with or without rows
    if project_id is not None:
        projects.get_project(connection, caller, str(project_id))
    return _empty_page(page)


@router.get("/attachment/list", tags=["Attachments"])
def list_attachments(
    caller: CallerDep,
    connection: Reading,
    project_id: UUID,
    entity_type: Literal["trace", "span"],
    entity_id: UUID,
    path: str = Query(min_length=1),
    page: int = PageQuery,
    size: int = Query(100, ge=1, le=10_000),
) -> dict:
    projects.get_project(connection, caller, str(project_id))
    return _empty_page(page)
