"""Traces: written in pieces and in any order by the clients' background batches, read
back with what their spans add up to and their feedback scores."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import NotFound
from seedbed.domain.feedback_scores import ScoreSummary, summarize_scores
from seedbed.domain.traces import SpanTotals, Trace, Write
from seedbed.services.context import Caller
from seedbed.services.tracing import patch_row, store_writes
from seedbed.storage.repositories.feedback_scores import FeedbackScoreRepository
from seedbed.storage.repositories.spans import SpanRepository
from seedbed.storage.repositories.traces import TraceRepository


@dataclass
class TraceView:
    trace: Trace
    totals: SpanTotals
    feedback_scores: list[ScoreSummary]


@dataclass
class TracePage:
    content: list[TraceView]
    page: int
    size: int
    total: int


def write_traces(connection: Connection, caller: Caller, writes: list[Write]) -> list[str]:
    """Create or merge traces (a batch, or one); returns their ids."""
    return store_writes(connection, caller, TraceRepository(connection), "trace", writes)


def patch_trace(
    connection: Connection,
    caller: Caller,
    write: Write,
    tags_to_add: list[str] | None = None,
    tags_to_remove: list[str] | None = None,
) -> None:
    """Merge an update into a trace; one that comes before the create is kept for it."""
    patch_row(
        connection, caller, TraceRepository(connection), "trace", write, tags_to_add, tags_to_remove
    )


def trace_views(connection: Connection, caller: Caller, found: list[Trace]) -> list[TraceView]:
    """Traces with what their spans add up to and their feedback scores."""
    trace_ids = [trace.id for trace in found]
    totals = SpanRepository(connection).totals(caller.workspace, trace_ids)
    scores = FeedbackScoreRepository(connection).of_entities(caller.workspace, "trace", trace_ids)
    return [
        TraceView(trace, totals[trace.id], summarize_scores(scores[trace.id])) for trace in found
    ]


def get_trace(connection: Connection, caller: Caller, trace_id: str) -> TraceView:
    found = TraceRepository(connection).get(
        caller.workspace, ids.canonical_id(trace_id, "trace id")
    )
    if found is None:
        raise NotFound("Trace not found")
    return trace_views(connection, caller, [found])[0]


def delete_traces(connection: Connection, caller: Caller, trace_ids: list[str]) -> None:
    """Traces with their spans and every score of both. Deleting what is not there is not
    an error; spans and scores that came without their trace go too."""
    trace_ids = [ids.canonical_id(trace_id, "trace id") for trace_id in trace_ids]
    FeedbackScoreRepository(connection).delete_in_traces(caller.workspace, trace_ids)
    SpanRepository(connection).delete_in_traces(caller.workspace, trace_ids)
    TraceRepository(connection).delete(caller.workspace, trace_ids)
