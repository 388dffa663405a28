"""The unmodified Opik client's REST methods for adding traces and spans to a dataset
and for grouping experiments, against ``seedbed serve``: what the client reads back."""

import datetime as dt
import json

import opik
import pytest
from opik.rest_api.core.api_error import ApiError
from opik.rest_api.types.span_enrichment_options import SpanEnrichmentOptions
from opik.rest_api.types.trace_enrichment_options import TraceEnrichmentOptions

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

START = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=dt.UTC)


def _log_trace(client: opik.Opik) -> tuple[str, str]:
    """A tagged trace with one LLM span; returns (trace id, span id)."""
    trace = client.trace(
        name="answer",
        start_time=START,
        input={"question": "Where is my order?"},
        tags=["gold"],
        project_name="support-bot",
    )
    span = trace.span(
        name="llm call",
        type="llm",
        start_time=START,
        input={"prompt": "Where is my order?"},
        usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    )
    span.end(end_time=START + dt.timedelta(seconds=1), output={"text": "On its way"})
    trace.end(end_time=START + dt.timedelta(seconds=2), output={"answer": "On its way"})
    client.flush()
    return trace.id, span.id


def test_traces_and_spans_added_to_a_dataset_are_its_items(opik_client):
    trace_id, span_id = _log_trace(opik_client)
    dataset = opik_client.create_dataset("from production")
    datasets = opik_client.rest_client.datasets
    datasets.create_dataset_items_from_traces(
        dataset_id=dataset.id,
        trace_ids=[trace_id],
        enrichment_options=TraceEnrichmentOptions(include_spans=True, include_tags=True),
    )
    datasets.create_dataset_items_from_spans(
        dataset_id=dataset.id,
        span_ids=[span_id],
        enrichment_options=SpanEnrichmentOptions(include_usage=True),
    )
    items = opik_client.get_dataset("from production").get_items()
    from_trace = next(item for item in items if "spans" in item)
    assert from_trace["input"] == {"question": "Where is my order?"}
    assert from_trace["expected_output"] == {"answer": "On its way"}
    assert from_trace["tags"] == ["gold"]
    assert [span["name"] for span in from_trace["spans"]] == ["llm call"]
    from_span = next(item for item in items if "usage" in item)
    assert from_span["expected_output"] == {"text": "On its way"}
    assert from_span["usage"]["total_tokens"] == 10


def test_an_unknown_trace_is_an_error_and_adds_nothing(opik_client):
    dataset = opik_client.create_dataset("stays empty")
    with pytest.raises(ApiError) as refused:
        opik_client.rest_client.datasets.create_dataset_items_from_traces(
            dataset_id=dataset.id,
            trace_ids=["0190a1b2-0000-7000-8000-000000000001"],
            enrichment_options=TraceEnrichmentOptions(),
        )
    assert refused.value.status_code == 404
    assert opik_client.get_dataset("stays empty").get_items() == []


def test_experiments_grouped_by_dataset_and_model(opik_client):
    dataset = opik_client.create_dataset("faq")
    dataset.insert([{"input": "Where is my order?"}])
    for name, model in (("first", "gpt"), ("second", "gpt"), ("third", "claude")):
        opik_client.create_experiment(
            dataset_name="faq", name=name, experiment_config={"model": model}
        )
    opik_client.flush()
    grouping = json.dumps(
        [
            {"field": "dataset_id", "type": "string"},
            {"field": "metadata", "key": "model", "type": "dictionary"},
        ]
    )
    experiments = opik_client.rest_client.experiments
    found = experiments.find_experiment_groups(groups=grouping)
    [(dataset_id, by_dataset)] = found.content.items()
    assert dataset_id == dataset.id
    assert by_dataset.label == "faq"
    assert found.details.groups_details[1].group_sorting == ["claude", "gpt"]
    aggregated = experiments.find_experiment_groups_aggregations(groups=grouping)
    faq = aggregated.content[dataset.id]
    assert faq.aggregations.experiment_count == 3
    assert faq.model_extra["groups"]["gpt"]["aggregations"]["experiment_count"] == 2
