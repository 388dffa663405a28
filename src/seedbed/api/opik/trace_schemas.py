"""Request bodies of Opik's trace, span and feedback score API (``opik-openapi.yaml``),
and the domain writes they become. Fields seedbed does not keep (``ttft``,
``environment``) are accepted and ignored; a client's ``last_updated_at`` orders its
writes of one trace or span (see ``domain/traces.py``)."""

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from seedbed.api.opik.schemas import Body, storable, text_or_none
from seedbed.domain.feedback_scores import MAX_MAGNITUDE, ScoreDraft
from seedbed.domain.traces import Write


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    """Stored as naive UTC; a time without a zone is taken as UTC."""
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("time is out of range once converted to UTC") from None


def _not_a_bool(value: Any) -> Any:
    # Pydantic would read true as 1; a score or a token count is never a boolean.
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


Text = Annotated[str, AfterValidator(storable)]
ShortText = Annotated[str, Field(max_length=255), AfterValidator(storable)]
# Opik's JsonListString: an object, a list or a string.
JsonValue = Annotated[dict[str, Any] | list[Any] | str, AfterValidator(storable)]
Moment = Annotated[dt.datetime, AfterValidator(_naive_utc)]
ProjectName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=512),
    AfterValidator(storable),
]
# A set in Opik: sent twice, a tag is kept once, where it first came.
Tags = Annotated[
    list[Annotated[str, Field(max_length=100), AfterValidator(storable)]],
    AfterValidator(lambda tags: list(dict.fromkeys(tags))),
]
TokenCount = Annotated[int, BeforeValidator(_not_a_bool), Field(ge=-(2**31), le=2**31 - 1)]
Cost = Annotated[float, BeforeValidator(_not_a_bool), Field(ge=0, allow_inf_nan=False)]
ScoreValue = Annotated[
    float,
    BeforeValidator(_not_a_bool),
    Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False),
]
TraceSource = Literal["sdk", "experiment", "playground", "optimization", "evaluator"]
SpanType = Literal["general", "tool", "llm", "guardrail"]
ScoreSource = Literal["ui", "sdk", "online_scoring"]


class ErrorInfo(Body):
    exception_type: Text = Field(min_length=1)
    message: Text | None = None
    traceback: Text = Field(min_length=1)


# What a trace or span body carries besides the fields stored as sent.
_NOT_STORED = (
    "id",
    "project_name",
    "project_id",
    "tags_to_add",
    "tags_to_remove",
    "last_updated_at",
)


class _Written(Body):
    """A trace or span body: the fields stored as sent, and those naming its id and project."""

    def to_write(self, write_id: str) -> Write:
        fields = {
            name: text_or_none(value) if isinstance(value, UUID) else value
            for name, value in self.model_dump(exclude_none=True).items()
            if name not in _NOT_STORED
        }
        return Write(
            id=write_id,
            fields=fields,
            project_name=getattr(self, "project_name", None),
            project_id=text_or_none(getattr(self, "project_id", None)),
            made_at=getattr(self, "last_updated_at", None),
        )


class _TraceFields(_Written):
    name: Text | None = None
    end_time: Moment | None = None
    input: JsonValue | None = None
    output: JsonValue | None = None
    metadata: JsonValue | None = None
    tags: Tags | None = Field(default=None, max_length=1000)
    error_info: ErrorInfo | None = None
    thread_id: ShortText | None = None
    source: TraceSource | None = None


class TraceWrite(_TraceFields):
    id: UUID | None = None
    project_name: ProjectName | None = None
    start_time: Moment
    last_updated_at: Moment | None = None


class TraceBatch(Body):
    traces: list[TraceWrite] = Field(min_length=1, max_length=1000)


class TraceUpdate(_TraceFields):
    project_name: ProjectName | None = None
    project_id: UUID | None = None
    tags: Tags | None = Field(default=None, max_length=50)
    tags_to_add: Tags | None = Field(default=None, max_length=50)
    tags_to_remove: Tags | None = Field(default=None, max_length=50)


class _SpanFields(_Written):
    trace_id: UUID
    parent_span_id: UUID | None = None
    name: Text | None = None
    type: SpanType | None = None
    end_time: Moment | None = None
    input: JsonValue | None = None
    output: JsonValue | None = None
    metadata: JsonValue | None = None
    model: ShortText | None = None
    provider: ShortText | None = None
    tags: Tags | None = Field(default=None, max_length=1000)
    usage: dict[ShortText, TokenCount] | None = None
    total_estimated_cost: Cost | None = None
    error_info: ErrorInfo | None = None
    source: TraceSource | None = None


class SpanWrite(_SpanFields):
    id: UUID | None = None
    project_name: ProjectName | None = None
    start_time: Moment
    last_updated_at: Moment | None = None


class SpanBatch(Body):
    spans: list[SpanWrite] = Field(min_length=1, max_length=1000)


class SpanUpdate(_SpanFields):
    project_name: ProjectName | None = None
    project_id: UUID | None = None
    tags: Tags | None = Field(default=None, max_length=50)
    tags_to_add: Tags | None = Field(default=None, max_length=50)
    tags_to_remove: Tags | None = Field(default=None, max_length=50)


class _ScoreFields(Body):
    name: ShortText = Field(min_length=1)
    category_name: ShortText | None = None
    value: ScoreValue
    reason: Text | None = None
    source: ScoreSource


class FeedbackScoreWrite(_ScoreFields):
    def to_draft(self, entity_id: str) -> ScoreDraft:
        return ScoreDraft(entity_id=entity_id, **self.model_dump())


class FeedbackScoreBatchItem(_ScoreFields):
    id: UUID
    project_name: ProjectName | None = None
    project_id: UUID | None = None
    author: ShortText | None = None

    def to_draft(self) -> ScoreDraft:
        return ScoreDraft(
            entity_id=str(self.id),
            **self.model_dump(exclude={"id", "project_id"}),
            project_id=text_or_none(self.project_id),
        )


class FeedbackScoreBatch(Body):
    scores: list[FeedbackScoreBatchItem] = Field(min_length=1, max_length=1000)


class FeedbackScoreDelete(Body):
    name: ShortText = Field(min_length=1)
    author: ShortText | None = None
