"""A dataset's versions on the UI: compare two, restore one, tag one."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from seedbed.domain.errors import SeedbedError
from seedbed.services import datasets, version_diffs, versions
from seedbed.storage.repositories.version_diffs import KINDS
from seedbed.web.dataset import dataset_page
from seedbed.web.pages import PageRoute, VisitorDep
from seedbed.web.templating import page_count, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DIFFERENCES_PER_PAGE = 50


@router.get("/datasets/{dataset_id}/diff")
def compare_versions(
    request: Request,
    visitor: VisitorDep,
    dataset_id: str,
    before: Annotated[str, Query(alias="from")],
    after: Annotated[str, Query(alias="to")],
    kind: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    with visitor.reading() as connection:
        dataset = datasets.require_dataset(connection, visitor.caller, dataset_id)
        comparison = version_diffs.compare_versions(
            connection,
            visitor.caller,
            dataset.id,
            before,
            after,
            (kind,) if kind else KINDS,
            page,
            DIFFERENCES_PER_PAGE,
        )
    return render(
        request,
        "diff.html",
        visitor,
        dataset=dataset,
        comparison=comparison,
        kind=kind,
        kinds=KINDS,
        page=page,
        pages=page_count(comparison.total, DIFFERENCES_PER_PAGE),
        found=comparison,
    )


def _back_to(dataset_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(
        f"/datasets/{dataset_id}?{urlencode({'notice': notice})}", status_code=303
    )


@router.post("/datasets/{dataset_id}/restore")
def restore_version(
    request: Request, visitor: VisitorDep, dataset_id: str, version: Annotated[str, Form()] = ""
) -> Response:
    try:
        with visitor.writing() as connection:
            restored = versions.restore_version(connection, visitor.caller, dataset_id, version)
    except SeedbedError as error:
        return dataset_page(request, visitor, dataset_id, message=error.message)
    return _back_to(dataset_id, f"Restored {version}: the dataset is now at {restored.name}")


@router.post("/datasets/{dataset_id}/tags")
def tag_version(
    request: Request,
    visitor: VisitorDep,
    dataset_id: str,
    version_hash: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
) -> Response:
    try:
        with visitor.writing() as connection:
            versions.tag_version(connection, visitor.caller, dataset_id, version_hash, tag)
    except SeedbedError as error:
        return dataset_page(request, visitor, dataset_id, message=error.message)
    return _back_to(dataset_id, f"Tagged version {version_hash} as '{tag.strip()}'")
