"""The datasets page: list and search, create, import a file, delete with confirmation."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from seedbed.domain import imports
from seedbed.domain.errors import InvalidInput, SeedbedError
from seedbed.domain.queries import DatasetQuery
from seedbed.services import datasets, items
from seedbed.web.pages import PageRoute, Visitor, VisitorDep
from seedbed.web.templating import page_count, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 25


def _list_page(
    request: Request,
    visitor: Visitor,
    name: str = "",
    page: int = 1,
    **context,
) -> Response:
    with visitor.reading() as connection:
        found = datasets.find_datasets(
            connection, visitor.caller, page, PAGE_SIZE, DatasetQuery(name=name.strip() or None)
        )
    return render(
        request,
        "datasets.html",
        visitor,
        found=found,
        name=name,
        page=page,
        pages=page_count(found.total, PAGE_SIZE),
        **context,
    )


@router.get("/datasets")
def list_datasets(
    request: Request,
    visitor: VisitorDep,
    name: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
    notice: str = "",
) -> Response:
    return _list_page(request, visitor, name, page, notice=notice)


@router.post("/datasets/new")
def create_dataset(
    request: Request,
    visitor: VisitorDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    try:
        with visitor.writing() as connection:
            created = datasets.create_dataset(
                connection, visitor.caller, name, description=description.strip() or None
            )
    except SeedbedError as error:
        return _list_page(request, visitor, message=error.message)
    return RedirectResponse(f"/datasets/{created.id}", status_code=303)


@router.post("/datasets/import")
async def import_dataset(
    request: Request,
    visitor: VisitorDep,
    file: Annotated[UploadFile | None, File()] = None,
    name: Annotated[str, Form()] = "",
) -> Response:
    """A new dataset (or more items for an existing one of that name) from a file, as one
    version; a file that cannot be read writes nothing. The upload is read here; parsing
    and the database work run in a worker thread, off the event loop."""
    filename = file.filename if file is not None else None
    raw = await file.read() if file is not None and filename else b""
    return await run_in_threadpool(_import_file, request, visitor, filename, raw, name)


def _import_file(
    request: Request, visitor: Visitor, filename: str | None, raw: bytes, name: str
) -> Response:
    try:
        if not filename:
            raise InvalidInput("Choose a .jsonl, .json or .csv file to import")
        text = _decoded(raw)
        file_format = imports.detect_format(filename)
        dataset_name = name.strip() or filename.rsplit(".", 1)[0]
        # The rows are read to the end before anything is written: a bad row anywhere
        # is reported, and no dataset is left half-imported.
        rows = list(imports.read_rows(text, file_format))
        if not rows:
            raise InvalidInput(f"{filename} holds no rows")
        with visitor.writing() as connection:
            target = datasets.get_or_create_by_name(connection, visitor.caller, dataset_name)
            items.import_rows(connection, visitor.caller, target, rows)
    except SeedbedError as error:
        return _list_page(request, visitor, message=error.message)
    return RedirectResponse(f"/datasets/{target.id}", status_code=303)


def _decoded(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file must be UTF-8 text") from None


@router.get("/datasets/{dataset_id}/delete")
def confirm_delete(request: Request, visitor: VisitorDep, dataset_id: str) -> Response:
    with visitor.reading() as connection:
        dataset = datasets.require_dataset(connection, visitor.caller, dataset_id)
    return render(request, "dataset_delete.html", visitor, dataset=dataset)


@router.post("/datasets/{dataset_id}/delete")
def delete_dataset(request: Request, visitor: VisitorDep, dataset_id: str) -> Response:
    with visitor.writing() as connection:
        dataset = datasets.require_dataset(connection, visitor.caller, dataset_id)
        datasets.delete_dataset(connection, visitor.caller, dataset.id)
    notice = urlencode({"notice": f"Deleted dataset '{dataset.name}'"})
    return RedirectResponse(f"/datasets?{notice}", status_code=303)
