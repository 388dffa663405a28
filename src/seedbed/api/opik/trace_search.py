"""Opik routes for searching traces and spans: the streamed searches the client's
``search_traces``, ``search_spans`` and ``copy_traces`` read (newline-delimited JSON,
newest first, continuing below ``last_retrieved_id``), and the paged span listing the
``opik`` CLI's export reads."""

import datetime as dt
from collections.abc import Iterable
from typing import Any, get_args

from fastapi import APIRouter, Response

from seedbed.api.dependencies import CallerDep, Reading
from seedbed.api.opik import trace_presenters
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.queries import parse_filters, string_list
from seedbed.api.opik.schemas import text_or_none
from seedbed.api.opik.streams import json_lines
from seedbed.api.opik.trace_schemas import SpanType
from seedbed.api.opik.trace_search_schemas import SpanExclude, SpanSearch, TraceSearch
from seedbed.domain.errors import InvalidInput
from seedbed.domain.queries import SpanQuery, TraceQuery
from seedbed.domain.trace_search import SPAN_FIELDS, TRACE_FIELDS
from seedbed.services import trace_search

router = APIRouter(tags=["Traces"])


def _without(presented: dict[str, Any], exclude: Iterable[str] | None) -> dict[str, Any]:
    """A presented trace or span less the fields the client asked to leave out."""
    left_out = set(exclude or ())
    return {key: value for key, value in presented.items() if key not in left_out}


@router.post("/traces/search")
def search_traces(body: TraceSearch, connection: Reading, caller: CallerDep) -> Response:
    query = TraceQuery(
        project_name=body.project_name,
        project_id=text_or_none(body.project_id),
        from_time=body.from_time,
        to_time=body.to_time,
        filters=parse_filters(body.filters, TRACE_FIELDS),
    )
    found = trace_search.search_traces(
        connection, caller, query, body.limit, text_or_none(body.last_retrieved_id)
    )
    return json_lines(_without(trace_presenters.trace(view), body.exclude) for view in found)


@router.post("/spans/search", tags=["Spans"])
def search_spans(body: SpanSearch, connection: Reading, caller: CallerDep) -> Response:
    query = SpanQuery(
        project_name=body.project_name,
        project_id=text_or_none(body.project_id),
        trace_id=text_or_none(body.trace_id),
        type=body.type,
        from_time=body.from_time,
        to_time=body.to_time,
        filters=parse_filters(body.filters, SPAN_FIELDS),
    )
    found = trace_search.search_spans(
        connection, caller, query, body.limit, text_or_none(body.last_retrieved_id)
    )
    return json_lines(_without(trace_presenters.span(view), body.exclude) for view in found)


def _span_exclusions(raw: str | None) -> tuple[str, ...]:
    names = string_list(raw, "exclude") or ()
    allowed = get_args(SpanExclude)
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise InvalidInput(f"exclude: unknown field '{unknown[0]}'")
    return names


@router.get("/spans", tags=["Spans"])
def find_spans(
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    project_name: str | None = None,
    project_id: str | None = None,
    trace_id: str | None = None,
    type: SpanType | None = None,
    filters: str | None = None,
    truncate: bool = False,  # nothing to truncate: what was logged comes back whole
    strip_attachments: bool = False,
    exclude: str | None = None,
    from_time: dt.datetime | None = None,
    to_time: dt.datetime | None = None,
) -> dict:
    left_out = _span_exclusions(exclude)
    query = SpanQuery(
        project_name=project_name,
        project_id=project_id,
        trace_id=trace_id,
        type=type,
        from_time=from_time,
        to_time=to_time,
        filters=parse_filters(filters, SPAN_FIELDS),
    )
    found = trace_search.find_spans(connection, caller, query, page, size)
    return {
        "content": [_without(trace_presenters.span(view), left_out) for view in found.content],
        "page": found.page,
        "size": len(found.content),
        "total": found.total,
        "sortableBy": [],
    }
