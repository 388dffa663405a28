"""Searching a project's traces and spans with Opik's filters: streamed in pages that
continue below the last id read, or paged by number."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import InvalidInput
from seedbed.domain.queries import SpanQuery, TraceQuery
from seedbed.domain.trace_search import MAX_SEARCH_LIMIT, SPAN_TYPES, id_window
from seedbed.services import projects
from seedbed.services.context import Caller
from seedbed.services.spans import SpanView, span_views
from seedbed.services.traces import TracePage, TraceView, trace_views
from seedbed.storage.repositories.projects import ProjectRepository
from seedbed.storage.repositories.trace_search import (
    SearchCriteria,
    TraceSearchRepository,
    Window,
)


@dataclass
class SpanPage:
    content: list[SpanView]
    page: int
    size: int
    total: int


def _criteria(
    connection: Connection, caller: Caller, query: TraceQuery | SpanQuery
) -> SearchCriteria | None:
    """What to search for, or ``None`` when the project named does not exist (it holds
    nothing). A project id that is not the workspace's is not found."""
    if query.project_id is not None:
        project_id = projects.get_project(connection, caller, query.project_id).id
    elif query.project_name is not None and query.project_name.strip():
        found = ProjectRepository(connection).get_by_name(
            caller.workspace, query.project_name.strip()
        )
        if found is None:
            return None
        project_id = found.id
    else:
        raise InvalidInput("project_name or project_id is required")
    lowest, highest = id_window(query.from_time, query.to_time)
    criteria = SearchCriteria(project_id, list(query.filters), lowest, highest, sort=query.sort)
    if isinstance(query, SpanQuery):
        if query.trace_id is not None:
            criteria.trace_id = ids.canonical_id(query.trace_id, "trace_id")
        if query.type is not None and query.type not in SPAN_TYPES:
            raise InvalidInput(f"type must be one of: {', '.join(SPAN_TYPES)}")
        criteria.type = query.type
    return criteria


def _cursor(last_retrieved_id: str | None, limit: int) -> str | None:
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_SEARCH_LIMIT}")
    if last_retrieved_id is None:
        return None
    return ids.canonical_id(last_retrieved_id, "last_retrieved_id")


def search_traces(
    connection: Connection,
    caller: Caller,
    query: TraceQuery,
    limit: int,
    last_retrieved_id: str | None = None,
) -> list[TraceView]:
    """Up to ``limit`` matching traces, newest first, below ``last_retrieved_id``."""
    below = _cursor(last_retrieved_id, limit)
    criteria = _criteria(connection, caller, query)
    if criteria is None:
        return []
    found = TraceSearchRepository(connection).find_traces(
        caller.workspace, criteria, Window(limit, below)
    )
    return trace_views(connection, caller, found)


def search_spans(
    connection: Connection,
    caller: Caller,
    query: SpanQuery,
    limit: int,
    last_retrieved_id: str | None = None,
) -> list[SpanView]:
    """Up to ``limit`` matching spans, newest first, below ``last_retrieved_id``."""
    below = _cursor(last_retrieved_id, limit)
    criteria = _criteria(connection, caller, query)
    if criteria is None:
        return []
    found = TraceSearchRepository(connection).find_spans(
        caller.workspace, criteria, Window(limit, below)
    )
    return span_views(connection, caller, found)


def _numbered_page(
    connection: Connection, caller: Caller, query: TraceQuery | SpanQuery, page: int, size: int
) -> tuple[list, int]:
    """One page of matching traces (or spans) and how many match in all; a project name
    that does not exist has none."""
    criteria = _criteria(connection, caller, query)
    if criteria is None:
        return [], 0
    repository = TraceSearchRepository(connection)
    window = Window(size, offset=(page - 1) * size)
    if isinstance(query, SpanQuery):
        found = repository.find_spans(caller.workspace, criteria, window)
        return found, repository.count_spans(caller.workspace, criteria)
    found = repository.find_traces(caller.workspace, criteria, window)
    return found, repository.count_traces(caller.workspace, criteria)


def find_spans(
    connection: Connection, caller: Caller, query: SpanQuery, page: int, size: int
) -> SpanPage:
    """One page of matching spans, newest first, and how many match in all."""
    found, total = _numbered_page(connection, caller, query, page, size)
    return SpanPage(span_views(connection, caller, found), page, size, total)


def find_traces(
    connection: Connection, caller: Caller, query: TraceQuery, page: int, size: int
) -> TracePage:
    """One page of matching traces, newest first (or as ``query`` sorts them), and how
    many match in all."""
    found, total = _numbered_page(connection, caller, query, page, size)
    return TracePage(trace_views(connection, caller, found), page, size, total)
