"""Spans: the steps of a trace, stored whether or not their trace has arrived yet."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import NotFound
from seedbed.domain.feedback_scores import ScoreSummary, summarize_scores
from seedbed.domain.traces import Span, Write
from seedbed.services.context import Caller
from seedbed.services.tracing import patch_row, store_writes
from seedbed.storage.repositories.feedback_scores import FeedbackScoreRepository
from seedbed.storage.repositories.spans import SpanRepository


@dataclass
class SpanView:
    span: Span
    feedback_scores: list[ScoreSummary]


def write_spans(connection: Connection, caller: Caller, writes: list[Write]) -> list[str]:
    """Create or merge spans (a batch, or one); returns their ids."""
    return store_writes(connection, caller, SpanRepository(connection), "span", writes)


def patch_span(
    connection: Connection,
    caller: Caller,
    write: Write,
    tags_to_add: list[str] | None = None,
    tags_to_remove: list[str] | None = None,
) -> None:
    patch_row(
        connection, caller, SpanRepository(connection), "span", write, tags_to_add, tags_to_remove
    )


def span_views(connection: Connection, caller: Caller, found: list[Span]) -> list[SpanView]:
    """Spans with their feedback scores."""
    scores = FeedbackScoreRepository(connection).of_entities(
        caller.workspace, "span", [span.id for span in found]
    )
    return [SpanView(span, summarize_scores(scores[span.id])) for span in found]


def get_span(connection: Connection, caller: Caller, span_id: str) -> SpanView:
    found = SpanRepository(connection).get(caller.workspace, ids.canonical_id(span_id, "span id"))
    if found is None:
        raise NotFound("Span not found")
    return span_views(connection, caller, [found])[0]
