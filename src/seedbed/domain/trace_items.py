"""Dataset items made from traces and spans, as Opik makes them: the trace's (or span's)
input becomes the item's ``input`` and its output the ``expected_output``; the options
the request carries add its spans, tags, feedback scores, usage and metadata. What is
empty is left out. seedbed keeps no comments, so ``includeComments`` adds nothing."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from seedbed.domain.feedback_scores import ScoreSummary
from seedbed.domain.traces import Span, Trace


@dataclass(frozen=True)
class Enrichment:
    """What to add to the input and expected output (Opik's ``*EnrichmentOptions``);
    ``spans`` counts for traces only."""

    spans: bool = False
    tags: bool = False
    feedback_scores: bool = False
    usage: bool = False
    metadata: bool = False


def _instant(moment: dt.datetime | None) -> str | None:
    """A stored (UTC) time as Opik writes an instant: ISO 8601 ending in Z."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def _scores(scores: list[ScoreSummary]) -> list[dict[str, Any]]:
    """Scores without their times and authors: what a dataset item keeps of them."""
    kept = []
    for score in scores:
        entry: dict[str, Any] = {"name": score.name}
        if score.latest.category_name is not None:
            entry["category_name"] = score.latest.category_name
        entry["value"] = score.value
        if score.latest.reason is not None:
            entry["reason"] = score.latest.reason
        entry["source"] = score.latest.source
        kept.append(entry)
    return kept


def _span_entry(span: Span, scores: list[ScoreSummary]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": span.id, "name": span.name, "type": span.type}
    if span.parent_span_id is not None:
        entry["parent_span_id"] = span.parent_span_id
    entry["input"] = span.input
    optional = {
        "output": span.output,
        "start_time": _instant(span.start_time),
        "end_time": _instant(span.end_time),
        "metadata": span.metadata,
        "feedback_scores": _scores(scores) or None,
    }
    entry.update({key: value for key, value in optional.items() if value is not None})
    return entry


def _common(
    found: Trace | Span,
    scores: list[ScoreSummary],
    usage: dict[str, int] | None,
    options: Enrichment,
) -> dict[str, Any]:
    data: dict[str, Any] = {"input": found.input}
    if found.output is not None:
        data["expected_output"] = found.output
    if options.tags and found.tags:
        data["tags"] = list(found.tags)
    if options.feedback_scores and scores:
        data["feedback_scores"] = _scores(scores)
    if options.usage and usage:
        data["usage"] = dict(usage)
    if options.metadata and found.metadata is not None:
        data["metadata"] = found.metadata
    return data


def trace_item_data(
    trace: Trace,
    scores: list[ScoreSummary],
    usage: dict[str, int] | None,
    spans: list[tuple[Span, list[ScoreSummary]]],
    options: Enrichment,
) -> dict[str, Any]:
    """An item's data from a trace, its scores, its spans' summed usage and its spans
    (each with its scores, in the order they began)."""
    data = _common(trace, scores, usage, options)
    if options.spans and spans:
        data["spans"] = [_span_entry(span, found) for span, found in spans]
    return data


def span_item_data(span: Span, scores: list[ScoreSummary], options: Enrichment) -> dict[str, Any]:
    """An item's data from a span and its scores."""
    return _common(span, scores, span.usage, options)
