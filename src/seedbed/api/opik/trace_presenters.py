"""Traces, spans and feedback scores in the JSON shapes Opik's clients read (Trace_Public,
Span_Public, FeedbackScore_Public). Absent values are left out, as Opik does."""

from typing import Any

from seedbed.api.opik.presenters import audit, compact, timestamp, unless_empty
from seedbed.domain.feedback_scores import ScoreSummary
from seedbed.domain.traces import Span, Trace
from seedbed.services.spans import SpanView
from seedbed.services.traces import TraceView


def feedback_score(summary: ScoreSummary) -> dict[str, Any]:
    latest = summary.latest
    return compact(
        {
            "name": summary.name,
            "category_name": latest.category_name,
            "value": summary.value,
            "reason": latest.reason,
            "source": latest.source,
            "created_at": timestamp(summary.created_at),
            "last_updated_at": timestamp(latest.last_updated_at),
            "created_by": latest.created_by,
            "last_updated_by": latest.last_updated_by,
            "value_by_author": {
                score.author: compact(
                    {
                        "value": score.value,
                        "reason": score.reason,
                        "category_name": score.category_name,
                        "source": score.source,
                        "last_updated_at": timestamp(score.last_updated_at),
                    }
                )
                for score in summary.by_author
            },
        }
    )


def score_names(names: list[str]) -> dict[str, Any]:
    return {"scores": [{"name": name} for name in names]}


def _metadata_naming(metadata: Any, key: str, value: str | list[str] | None) -> Any:
    """Metadata as Opik shows it: the span's ``provider`` (or the providers of a trace's
    spans) as its first key, which is where Opik's clients read them. A key the metadata
    already has keeps its value. Metadata that is not an object (a list, a text) is shown
    as stored rather than replaced as Opik would: the top-level field still names them."""
    if not value or not (metadata is None or isinstance(metadata, dict)):
        return metadata
    return {key: value, **(metadata or {})}


def _timed(found: Trace | Span) -> dict[str, Any]:
    """What traces and spans share."""
    return {
        "id": found.id,
        "project_id": found.project_id,
        "name": found.name,
        "start_time": timestamp(found.start_time),
        "end_time": timestamp(found.end_time),
        "duration": found.duration_ms,
        "input": found.input,
        "output": found.output,
        "metadata": found.metadata,
        "tags": unless_empty(found.tags),
        "error_info": found.error_info,
        "source": found.source,
        **audit(found),
    }


def trace(view: TraceView) -> dict[str, Any]:
    totals = view.totals
    providers = sorted(totals.providers)
    return compact(
        {
            **_timed(view.trace),
            "metadata": _metadata_naming(view.trace.metadata, "providers", providers),
            "thread_id": view.trace.thread_id,
            "usage": unless_empty(totals.usage),
            "total_estimated_cost": totals.total_estimated_cost,
            "span_count": totals.span_count,
            "llm_span_count": totals.llm_span_count,
            "providers": unless_empty(providers),
            "feedback_scores": unless_empty(
                [feedback_score(summary) for summary in view.feedback_scores]
            ),
        }
    )


def span(view: SpanView) -> dict[str, Any]:
    found = view.span
    return compact(
        {
            **_timed(found),
            "metadata": _metadata_naming(found.metadata, "provider", found.provider),
            "trace_id": found.trace_id,
            "parent_span_id": found.parent_span_id,
            "type": found.type,
            "model": found.model,
            "provider": found.provider,
            "usage": found.usage,
            "total_estimated_cost": found.total_estimated_cost,
            "feedback_scores": unless_empty(
                [feedback_score(summary) for summary in view.feedback_scores]
            ),
        }
    )
