"""Request bodies of Opik's trace and span search (``TraceSearchStreamRequest_Public``,
``SpanSearchStreamRequest_Public``). ``truncate`` and ``strip_attachments`` are accepted
and have nothing to do: seedbed stores no attachments and returns what was logged whole."""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from seedbed.api.opik.schemas import Body
from seedbed.domain.trace_search import DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT

# The fields a response may leave out, as Opik names them.
TraceExclude = Literal[
    "name", "start_time", "end_time", "input", "output", "metadata", "tags", "error_info",
    "usage", "created_at", "created_by", "last_updated_by", "feedback_scores",
    "span_feedback_scores", "comments", "guardrails_validations", "total_estimated_cost",
    "span_count", "llm_span_count", "has_tool_spans", "duration", "ttft", "thread_id",
    "visibility_mode", "providers", "experiment", "source", "environment",
]  # fmt: skip
SpanExclude = Literal[
    "name", "type", "start_time", "end_time", "input", "output", "metadata", "model",
    "provider", "tags", "usage", "error_info", "created_at", "created_by", "last_updated_by",
    "feedback_scores", "comments", "total_estimated_cost", "total_estimated_cost_version",
    "duration", "ttft", "source", "environment",
]  # fmt: skip
SpanType = Literal["general", "tool", "llm", "guardrail"]


class _Search(Body):
    project_name: str | None = None
    project_id: UUID | None = None
    filters: list[Any] | None = None
    last_retrieved_id: UUID | None = None
    limit: int = Field(default=DEFAULT_SEARCH_LIMIT, ge=1, le=MAX_SEARCH_LIMIT)
    truncate: bool | None = None
    from_time: dt.datetime | None = None
    to_time: dt.datetime | None = None


class TraceSearch(_Search):
    strip_attachments: bool | None = None
    exclude: list[TraceExclude] | None = None


class SpanSearch(_Search):
    trace_id: UUID | None = None
    type: SpanType | None = None
    exclude: list[SpanExclude] | None = None
