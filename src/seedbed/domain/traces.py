"""Traces and spans: what one run of an LLM app did, step by step.

Clients send them in background batches, in no fixed order, and retry: a span may come
before its trace, an update before the create, and Opik's client sends an early create
(the function's name, an empty input) and a later full one for the same id from
different threads. So a write is a merge, not a replace, and it is ordered by when the
client made it, not by when it arrived: each field keeps the value of the latest write
that carries it (the client's ``last_updated_at``, or for a write without one, the time
it arrived). Whatever order the writes arrive in, the result is the same; a write never
erases a field it does not carry.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from seedbed.domain.errors import InvalidInput
from seedbed.domain.ids import canonical_id
from seedbed.domain.items import storage_problem

# The time of a field stored before fields had times: any write replaces it.
NEVER = dt.datetime.min


@dataclass
class Write:
    """A trace or span as one request sends it: the stored fields it carries, the project
    it names, if any, and when the client made it (``None``: when it arrived). A field
    sent as null is a field not sent: it never erases what is stored."""

    id: str
    fields: dict[str, Any]
    project_name: str | None = None
    project_id: str | None = None
    made_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        self.id = canonical_id(self.id)
        self.fields = {name: value for name, value in self.fields.items() if value is not None}
        for name, value in self.fields.items():
            if (problem := storage_problem(value)) is not None:
                raise InvalidInput(f"{self.id}: {name}: {problem}")

    @property
    def names_project(self) -> bool:
        return self.project_name is not None or self.project_id is not None

    def stamped(self, arrived: dt.datetime) -> "StampedFields":
        made_at = self.made_at or arrived
        return StampedFields(dict(self.fields), {name: made_at for name in self.fields})


@dataclass(frozen=True)
class StampedFields:
    """The fields of one trace or span, each with the time of the write that set it."""

    values: dict[str, Any]
    stamps: dict[str, dt.datetime]

    def then(self, other: "StampedFields") -> "StampedFields":
        """These fields merged with another write's: each field as the later of the two
        set it. On a tie ``other`` wins, as the write that arrived last."""
        values, stamps = dict(self.values), dict(self.stamps)
        for name, value in other.values.items():
            if other.stamps[name] >= stamps.get(name, NEVER):
                values[name], stamps[name] = value, other.stamps[name]
        return StampedFields(values, stamps)


def fold_writes(writes: list[Write], arrived: dt.datetime) -> dict[str, StampedFields]:
    """One set of fields per id, in order of first appearance: a batch naming an id twice
    stores what its writes would, sent one by one."""
    folded: dict[str, StampedFields] = {}
    for write in writes:
        stamped = write.stamped(arrived)
        folded[write.id] = folded[write.id].then(stamped) if write.id in folded else stamped
    return folded


def duration_ms(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start) / dt.timedelta(milliseconds=1)


def apply_tag_changes(
    tags: list[str] | None, add: list[str] | None, remove: list[str] | None
) -> list[str]:
    kept = [tag for tag in (tags or []) if tag not in set(remove or [])]
    return kept + [tag for tag in dict.fromkeys(add or []) if tag not in kept]


@dataclass
class Trace:
    id: str
    workspace: str
    project_id: str
    name: str | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    duration_ms: float | None
    input: Any
    output: Any
    metadata: Any
    tags: list[str] | None
    error_info: dict[str, Any] | None
    thread_id: str | None
    source: str | None
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str


@dataclass
class Span:
    id: str
    workspace: str
    project_id: str
    trace_id: str
    parent_span_id: str | None
    name: str | None
    type: str | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    duration_ms: float | None
    input: Any
    output: Any
    metadata: Any
    model: str | None
    provider: str | None
    tags: list[str] | None
    usage: dict[str, int] | None
    total_estimated_cost: float | None
    error_info: dict[str, Any] | None
    source: str | None
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str


@dataclass
class SpanTotals:
    """What the spans of one trace add up to. Spans are added in a fixed order (by id), so
    the float sums come out the same on every read."""

    span_count: int = 0
    llm_span_count: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    total_estimated_cost: float | None = None
    providers: set[str] = field(default_factory=set)

    def add(
        self,
        usage: dict[str, int] | None,
        cost: float | None,
        type: str | None,
        provider: str | None,
    ) -> None:
        self.span_count += 1
        if type == "llm":
            self.llm_span_count += 1
        for key, value in (usage or {}).items():
            self.usage[key] = self.usage.get(key, 0) + value
        if cost is not None:
            self.total_estimated_cost = (self.total_estimated_cost or 0.0) + cost
        if provider:
            self.providers.add(provider)
