"""Opik routes for traces, spans and their feedback scores."""

import datetime as dt

from fastapi import APIRouter, Request, Response

from seedbed.api.dependencies import CallerDep, Reading, Writing
from seedbed.api.opik import trace_presenters
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.queries import parse_filters, parse_sorting
from seedbed.api.opik.schemas import BatchDelete, text_or_none
from seedbed.api.opik.trace_schemas import (
    FeedbackScoreBatch,
    FeedbackScoreDelete,
    FeedbackScoreWrite,
    SpanBatch,
    SpanUpdate,
    SpanWrite,
    TraceBatch,
    TraceUpdate,
    TraceWrite,
)
from seedbed.domain import ids
from seedbed.domain.queries import TraceQuery
from seedbed.domain.trace_search import TRACE_FIELDS
from seedbed.services import feedback_scores, spans, trace_search, traces

router = APIRouter(tags=["Traces"])


def _new_or_given(given) -> str:
    return text_or_none(given) or ids.new_id()


# -- traces ------------------------------------------------------------------------------


@router.get("/traces")
def find_traces(
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
    project_name: str | None = None,
    project_id: str | None = None,
    filters: str | None = None,
    sorting: str | None = None,
    from_time: dt.datetime | None = None,
    to_time: dt.datetime | None = None,
    truncate: bool = False,  # nothing to truncate: what was logged comes back whole
    strip_attachments: bool = False,
) -> dict:
    query = TraceQuery(
        project_name=project_name,
        project_id=project_id,
        from_time=from_time,
        to_time=to_time,
        filters=parse_filters(filters, TRACE_FIELDS),
        sort=parse_sorting(sorting, TRACE_FIELDS),
    )
    found = trace_search.find_traces(connection, caller, query, page, size)
    return {
        "content": [trace_presenters.trace(view) for view in found.content],
        "page": found.page,
        "size": len(found.content),
        "total": found.total,
        "sortableBy": [],
    }


@router.post("/traces", status_code=201, response_class=Response)
def create_trace(
    body: TraceWrite, connection: Writing, caller: CallerDep, request: Request
) -> Response:
    [trace_id] = traces.write_traces(connection, caller, [body.to_write(_new_or_given(body.id))])
    return Response(status_code=201, headers={"Location": f"{request.url.path}/{trace_id}"})


@router.post("/traces/batch", status_code=204)
def create_traces(body: TraceBatch, connection: Writing, caller: CallerDep) -> None:
    traces.write_traces(
        connection, caller, [trace.to_write(_new_or_given(trace.id)) for trace in body.traces]
    )


@router.post("/traces/delete", status_code=204)
def delete_traces(body: BatchDelete, connection: Writing, caller: CallerDep) -> None:
    traces.delete_traces(connection, caller, [str(trace_id) for trace_id in body.ids])


@router.put("/traces/feedback-scores", status_code=204)
def score_traces(body: FeedbackScoreBatch, connection: Writing, caller: CallerDep) -> None:
    feedback_scores.put_scores(
        connection, caller, "trace", [score.to_draft() for score in body.scores]
    )


@router.get("/traces/feedback-scores/names")
def trace_score_names(
    connection: Reading, caller: CallerDep, project_id: str | None = None
) -> dict:
    return trace_presenters.score_names(
        feedback_scores.score_names(connection, caller, "trace", project_id)
    )


@router.get("/traces/{trace_id}")
def get_trace(trace_id: str, connection: Reading, caller: CallerDep) -> dict:
    return trace_presenters.trace(traces.get_trace(connection, caller, trace_id))


@router.patch("/traces/{trace_id}", status_code=204)
def update_trace(trace_id: str, body: TraceUpdate, connection: Writing, caller: CallerDep) -> None:
    traces.patch_trace(
        connection, caller, body.to_write(trace_id), body.tags_to_add, body.tags_to_remove
    )


@router.delete("/traces/{trace_id}", status_code=204)
def delete_trace(trace_id: str, connection: Writing, caller: CallerDep) -> None:
    traces.delete_traces(connection, caller, [trace_id])


@router.put("/traces/{trace_id}/feedback-scores", status_code=204)
def score_trace(
    trace_id: str, body: FeedbackScoreWrite, connection: Writing, caller: CallerDep
) -> None:
    feedback_scores.put_scores(connection, caller, "trace", [body.to_draft(trace_id)])


@router.post("/traces/{trace_id}/feedback-scores/delete", status_code=204)
def delete_trace_score(
    trace_id: str, body: FeedbackScoreDelete, connection: Writing, caller: CallerDep
) -> None:
    feedback_scores.delete_score(connection, caller, "trace", trace_id, body.name, body.author)


# -- spans -------------------------------------------------------------------------------


@router.post("/spans", status_code=201, response_class=Response)
def create_span(
    body: SpanWrite, connection: Writing, caller: CallerDep, request: Request
) -> Response:
    [span_id] = spans.write_spans(connection, caller, [body.to_write(_new_or_given(body.id))])
    return Response(status_code=201, headers={"Location": f"{request.url.path}/{span_id}"})


@router.post("/spans/batch", status_code=204)
def create_spans(body: SpanBatch, connection: Writing, caller: CallerDep) -> None:
    spans.write_spans(
        connection, caller, [span.to_write(_new_or_given(span.id)) for span in body.spans]
    )


@router.put("/spans/feedback-scores", status_code=204)
def score_spans(body: FeedbackScoreBatch, connection: Writing, caller: CallerDep) -> None:
    feedback_scores.put_scores(
        connection, caller, "span", [score.to_draft() for score in body.scores]
    )


@router.get("/spans/feedback-scores/names")
def span_score_names(connection: Reading, caller: CallerDep, project_id: str | None = None) -> dict:
    return trace_presenters.score_names(
        feedback_scores.score_names(connection, caller, "span", project_id)
    )


@router.get("/spans/{span_id}")
def get_span(span_id: str, connection: Reading, caller: CallerDep) -> dict:
    return trace_presenters.span(spans.get_span(connection, caller, span_id))


@router.patch("/spans/{span_id}", status_code=204)
def update_span(span_id: str, body: SpanUpdate, connection: Writing, caller: CallerDep) -> None:
    spans.patch_span(
        connection, caller, body.to_write(span_id), body.tags_to_add, body.tags_to_remove
    )


@router.put("/spans/{span_id}/feedback-scores", status_code=204)
def score_span(
    span_id: str, body: FeedbackScoreWrite, connection: Writing, caller: CallerDep
) -> None:
    feedback_scores.put_scores(connection, caller, "span", [body.to_draft(span_id)])


@router.post("/spans/{span_id}/feedback-scores/delete", status_code=204)
def delete_span_score(
    span_id: str, body: FeedbackScoreDelete, connection: Writing, caller: CallerDep
) -> None:
    feedback_scores.delete_score(connection, caller, "span", span_id, body.name, body.author)
