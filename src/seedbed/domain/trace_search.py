"""Searching traces and spans: the fields Opik's clients filter them on, and the window
of time a search may be bounded to.

A trace's or span's id is a UUIDv7 its client made when the step began, so "made between
``from_time`` and ``to_time``" is a range of ids, as Opik reads it.
"""

import datetime as dt
import uuid

from seedbed.domain.errors import InvalidInput
from seedbed.domain.filters import FieldKind

# A search streams at most this many rows at once (Opik's ``limit``), 500 unless asked.
MAX_SEARCH_LIMIT = 2000
DEFAULT_SEARCH_LIMIT = 500

_SHARED_FIELDS = {
    "id": FieldKind.STRING,
    "name": FieldKind.STRING,
    "start_time": FieldKind.DATE_TIME,
    "end_time": FieldKind.DATE_TIME,
    "input": FieldKind.STRING,  # the whole input, as JSON text
    "output": FieldKind.STRING,
    "input_json": FieldKind.JSON,  # a key inside it
    "output_json": FieldKind.JSON,
    "metadata": FieldKind.JSON,
    "tags": FieldKind.LIST,
    "total_estimated_cost": FieldKind.NUMBER,
    "usage.total_tokens": FieldKind.NUMBER,
    "usage.prompt_tokens": FieldKind.NUMBER,
    "usage.completion_tokens": FieldKind.NUMBER,
    "feedback_scores": FieldKind.NAMED_NUMBER,
    "duration": FieldKind.NUMBER,
    "error_info": FieldKind.STRING,
    "source": FieldKind.STRING,
    "created_at": FieldKind.DATE_TIME,
    "last_updated_at": FieldKind.DATE_TIME,
}

# Opik's TraceField, as far as seedbed stores what it names. A trace's cost, usage and
# span counts are what its spans add up to.
TRACE_FIELDS = {
    **_SHARED_FIELDS,
    "span_count": FieldKind.NUMBER,
    "llm_span_count": FieldKind.NUMBER,
    "span_feedback_scores": FieldKind.NAMED_NUMBER,  # the average over the trace's spans
    "thread_id": FieldKind.STRING,
    "experiment_id": FieldKind.STRING,  # the experiment whose item ran as this trace
}

# Opik's SpanField, likewise.
SPAN_FIELDS = {
    **_SHARED_FIELDS,
    "trace_id": FieldKind.STRING,
    "type": FieldKind.STRING,
    "model": FieldKind.STRING,
    "provider": FieldKind.STRING,
}

SPAN_TYPES = ("general", "tool", "llm", "guardrail")


def _uuid7_at(moment: dt.datetime, fill: int) -> str:
    """The lowest (``fill`` 0) or highest (``fill`` all ones) UUIDv7 of ``moment``'s
    millisecond; a naive moment is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    unix_ms = max(0, int(moment.timestamp() * 1000))
    if unix_ms >= 1 << 48:
        raise InvalidInput("time is beyond what an id can hold")
    return str(uuid.UUID(int=(unix_ms << 80) | fill))


def id_window(
    from_time: dt.datetime | None, to_time: dt.datetime | None
) -> tuple[str | None, str | None]:
    """The lowest and highest id made between ``from_time`` and ``to_time`` (either may be
    open). ``to_time`` must come after ``from_time``."""
    if from_time is not None and to_time is not None:
        both = [
            moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
            for moment in (from_time, to_time)
        ]
        if both[1] <= both[0]:
            raise InvalidInput("to_time must be after from_time")
    lowest = _uuid7_at(from_time, 0) if from_time is not None else None
    highest = _uuid7_at(to_time, (1 << 80) - 1) if to_time is not None else None
    return lowest, highest
