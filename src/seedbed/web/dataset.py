"""A dataset's page: the items of the latest version (or, read-only, of an older one) in
a paged, filterable table, the version history, and the draft of changes saved as one
new version."""

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from seedbed.domain.errors import InvalidInput, SeedbedError
from seedbed.domain.filters import Operator
from seedbed.domain.items import ITEM_FIELDS
from seedbed.domain.queries import ItemQuery
from seedbed.services import datasets, item_changes, items, versions
from seedbed.web.pages import PageRoute, Visitor, VisitorDep
from seedbed.web.templating import page_count, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ITEMS_PER_PAGE = 25
VERSIONS_PER_PAGE = 10
# The item fields a filter can name besides the data's own keys (``data.<key>``).
FILTER_FIELDS = [name for name in ITEM_FIELDS if name not in ("data", "full_data")]
OPERATORS = [operator.value for operator in Operator]


def _item_query(version: str | None, search: str, field: str, operator: str, value: str):
    query = ItemQuery(version=version)
    if search.strip():
        query = query.where("full_data", "contains", search.strip())
    if field:
        query = query.where(field, operator or "contains", value)
    return query


def dataset_page(
    request: Request,
    visitor: Visitor,
    dataset_id: str,
    version: str | None = None,
    page: int = 1,
    version_page: int = 1,
    search: str = "",
    field: str = "",
    operator: str = "",
    value: str = "",
    **context: Any,
) -> Response:
    with visitor.reading() as connection:
        dataset = datasets.require_dataset(connection, visitor.caller, dataset_id)
        latest = dataset.latest_version_sequence
        shown = versions.resolve_version(connection, dataset, version) if version else None
        read_only = shown is not None and shown.sequence != latest
        found = items.list_items(
            connection,
            visitor.caller,
            dataset.id,
            page,
            ITEMS_PER_PAGE,
            _item_query(shown.name if read_only else None, search, field, operator, value),
        )
        history = versions.list_versions(
            connection, visitor.caller, dataset.id, version_page, VERSIONS_PER_PAGE
        )
        latest_version = versions.resolve_version(connection, dataset, "latest") if latest else None
    columns = list(dict.fromkeys([column.name for column in found.columns]))
    for item in found.content:  # an old version may hold keys the latest has dropped
        columns += [key for key in item.data if key not in columns]
    return render(
        request,
        "dataset.html",
        visitor,
        dataset=dataset,
        shown=shown if read_only else latest_version,
        latest_version=latest_version,
        read_only=read_only,
        found=found,
        columns=columns,
        page=page,
        pages=page_count(found.total, ITEMS_PER_PAGE),
        history=history,
        version_page=version_page,
        version_pages=page_count(history.total, VERSIONS_PER_PAGE),
        search=search,
        field=field,
        operator=operator,
        value=value,
        filter_fields=[f"data.{name}" for name in columns] + FILTER_FIELDS,
        operators=OPERATORS,
        **context,
    )


@router.get("/datasets/{dataset_id}")
def show_dataset(
    request: Request,
    visitor: VisitorDep,
    dataset_id: str,
    version: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    version_page: Annotated[int, Query(ge=1)] = 1,
    search: str = "",
    field: str = "",
    operator: str = "",
    value: str = "",
    notice: str = "",
) -> Response:
    try:
        return dataset_page(
            request,
            visitor,
            dataset_id,
            version,
            page,
            version_page,
            search,
            field,
            operator,
            value,
            notice=notice,
        )
    except InvalidInput as error:  # a filter the items cannot take: say so, show them all
        return dataset_page(request, visitor, dataset_id, version, message=error.message)


@router.post("/datasets/{dataset_id}/changes")
def save_draft(
    request: Request,
    visitor: VisitorDep,
    dataset_id: str,
    changes: Annotated[str, Form()] = "",
    base_version: Annotated[str, Form()] = "",
    change_description: Annotated[str, Form()] = "",
) -> Response:
    """The draft (items added, edited, deleted in the browser) as ONE new version."""
    try:
        draft = _read_draft(changes, base_version, change_description)
        with visitor.writing() as connection:
            saved = item_changes.apply_changes(connection, visitor.caller, dataset_id, draft)
    except SeedbedError as error:
        return dataset_page(request, visitor, dataset_id, message=error.message)
    notice = urlencode({"notice": f"Saved as {saved.name}", "saved": saved.name})
    return RedirectResponse(f"/datasets/{dataset_id}?{notice}", status_code=303)


def _read_draft(raw: str, base_version: str, description: str) -> item_changes.VersionChanges:
    try:
        draft = json.loads(raw or "{}")
    except json.JSONDecodeError:
        raise InvalidInput("The draft could not be read; reload the page") from None
    if not isinstance(draft, dict):
        raise InvalidInput("The draft could not be read; reload the page")
    added, edited, deleted = (draft.get(key) or [] for key in ("added", "edited", "deleted"))
    if not (added or edited or deleted):
        raise InvalidInput("The draft is empty: add, edit or delete items first")
    for entry in [*added, *edited]:
        if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
            raise InvalidInput("Each item's data must be a JSON object")
    return item_changes.VersionChanges(
        base_version=base_version or None,
        added=[
            items.draft_from_fields({"data": entry["data"], "source": "manual"}) for entry in added
        ],
        edited=[{"id": str(entry.get("id")), "data": entry["data"]} for entry in edited],
        deleted=[str(item_id) for item_id in deleted],
        change_description=description.strip() or None,
    )
