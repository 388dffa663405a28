"""Opik routes that add traces or spans to a dataset as items
(``createDatasetItemsFromTraces``, ``createDatasetItemsFromSpans``): answered once the
new version is written, 204 as in Opik; an id that is not one of the workspace's traces
or spans is a 404 and adds nothing."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from seedbed.api.dependencies import CallerDep, Writing
from seedbed.api.opik.schemas import Body, JsonObject
from seedbed.domain.trace_items import Enrichment
from seedbed.services import items_from_traces

router = APIRouter(tags=["Datasets"])

MAX_SOURCE_IDS = 1000


class SpanEnrichmentOptions(Body):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    include_tags: bool = Field(False, alias="includeTags")
    include_feedback_scores: bool = Field(False, alias="includeFeedbackScores")
    include_comments: bool = Field(False, alias="includeComments")  # seedbed keeps none
    include_usage: bool = Field(False, alias="includeUsage")
    include_metadata: bool = Field(False, alias="includeMetadata")

    def to_enrichment(self, spans: bool = False) -> Enrichment:
        return Enrichment(
            spans=spans,
            tags=self.include_tags,
            feedback_scores=self.include_feedback_scores,
            usage=self.include_usage,
            metadata=self.include_metadata,
        )


class TraceEnrichmentOptions(SpanEnrichmentOptions):
    include_spans: bool = Field(False, alias="includeSpans")


class _FromSources(Body):
    evaluators: list[JsonObject] | None = None
    execution_policy: JsonObject | None = None


class ItemsFromTraces(_FromSources):
    trace_ids: list[UUID] = Field(min_length=1, max_length=MAX_SOURCE_IDS)
    enrichment_options: TraceEnrichmentOptions


class ItemsFromSpans(_FromSources):
    span_ids: list[UUID] = Field(min_length=1, max_length=MAX_SOURCE_IDS)
    enrichment_options: SpanEnrichmentOptions


def _texts(values: list[UUID]) -> list[str]:
    return [str(value) for value in values]


def _policy(body: _FromSources) -> dict[str, Any]:
    return {"evaluators": body.evaluators, "execution_policy": body.execution_policy}


@router.post("/datasets/{dataset_id}/items/from-traces", status_code=204)
def add_traces_to_dataset(
    dataset_id: str, body: ItemsFromTraces, connection: Writing, caller: CallerDep
) -> None:
    options = body.enrichment_options
    items_from_traces.add_traces(
        connection,
        caller,
        dataset_id,
        _texts(body.trace_ids),
        options.to_enrichment(spans=options.include_spans),
        **_policy(body),
    )


@router.post("/datasets/{dataset_id}/items/from-spans", status_code=204)
def add_spans_to_dataset(
    dataset_id: str, body: ItemsFromSpans, connection: Writing, caller: CallerDep
) -> None:
    items_from_traces.add_spans(
        connection,
        caller,
        dataset_id,
        _texts(body.span_ids),
        body.enrichment_options.to_enrichment(),
        **_policy(body),
    )
