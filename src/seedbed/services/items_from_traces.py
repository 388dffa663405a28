"""Adding a workspace's traces or spans to a dataset as items (Opik's "add to dataset"):
each becomes one item linked to where it came from, all of them one new version."""

from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import NotFound
from seedbed.domain.feedback_scores import summarize_scores
from seedbed.domain.items import ItemDraft
from seedbed.domain.trace_items import Enrichment, span_item_data, trace_item_data
from seedbed.domain.versions import DatasetVersion
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset
from seedbed.services.items import upsert_items
from seedbed.storage.repositories.feedback_scores import FeedbackScoreRepository
from seedbed.storage.repositories.spans import SpanRepository
from seedbed.storage.repositories.traces import TraceRepository


def _wanted(given: list[str], what: str) -> list[str]:
    return list(dict.fromkeys(ids.canonical_id(value, what) for value in given))


def _require_all(wanted: list[str], found: set[str], kind: str) -> None:
    """Every id names one of the workspace's traces (or spans), or nothing is added."""
    missing = [value for value in wanted if value not in found]
    if missing:
        raise NotFound(f"{kind} not found: {', '.join(missing)}")


def add_traces(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    trace_ids: list[str],
    options: Enrichment,
    evaluators: list[dict[str, Any]] | None = None,
    execution_policy: dict[str, Any] | None = None,
) -> DatasetVersion | None:
    """One item per trace (in the order given), as one new version of the dataset."""
    dataset = require_dataset(connection, caller, dataset_id)
    wanted = _wanted(trace_ids, "trace_ids")
    found = {
        trace.id: trace for trace in TraceRepository(connection).by_ids(caller.workspace, wanted)
    }
    _require_all(wanted, set(found), "Trace")
    scores = FeedbackScoreRepository(connection)
    trace_scores = scores.of_entities(caller.workspace, "trace", wanted)
    totals = SpanRepository(connection).totals(caller.workspace, wanted)
    spans_of: dict[str, list] = {trace_id: [] for trace_id in wanted}
    if options.spans:
        spans = SpanRepository(connection).of_traces(caller.workspace, wanted)
        span_scores = scores.of_entities(caller.workspace, "span", [span.id for span in spans])
        for span in spans:
            spans_of[span.trace_id].append((span, summarize_scores(span_scores[span.id])))
    drafts = [
        ItemDraft(
            id=ids.new_id(),
            data=trace_item_data(
                found[trace_id],
                summarize_scores(trace_scores[trace_id]),
                totals[trace_id].usage,
                spans_of[trace_id],
                options,
            ),
            source="trace",
            trace_id=trace_id,
            evaluators=evaluators,
            execution_policy=execution_policy,
        )
        for trace_id in wanted
    ]
    return upsert_items(connection, caller, drafts, dataset_id=dataset.id)


def add_spans(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    span_ids: list[str],
    options: Enrichment,
    evaluators: list[dict[str, Any]] | None = None,
    execution_policy: dict[str, Any] | None = None,
) -> DatasetVersion | None:
    """One item per span (in the order given), as one new version of the dataset."""
    dataset = require_dataset(connection, caller, dataset_id)
    wanted = _wanted(span_ids, "span_ids")
    found = {span.id: span for span in SpanRepository(connection).by_ids(caller.workspace, wanted)}
    _require_all(wanted, set(found), "Span")
    span_scores = FeedbackScoreRepository(connection).of_entities(caller.workspace, "span", wanted)
    drafts = [
        ItemDraft(
            id=ids.new_id(),
            data=span_item_data(found[span_id], summarize_scores(span_scores[span_id]), options),
            source="span",
            trace_id=found[span_id].trace_id,
            span_id=span_id,
            evaluators=evaluators,
            execution_policy=execution_policy,
        )
        for span_id in wanted
    ]
    return upsert_items(connection, caller, drafts, dataset_id=dataset.id)
