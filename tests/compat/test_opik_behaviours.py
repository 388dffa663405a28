"""What the unmodified Opik client reads back where Opik's answers have a particular
form: collections left out when empty, unknown ids of any form being "not found", the
providers a trace's metadata carries."""

import pytest
from opik import exceptions
from opik.rest_api.core.api_error import ApiError

pytestmark = [
    pytest.mark.compat,
    # Raised inside httpx by how the Opik client builds its HTTP client; not ours to fix.
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]


def test_an_experiment_without_tags_reads_back_without_tags(opik_client):
    opik_client.create_dataset("questions").insert([{"question": "Where is my order?"}])
    tagged = opik_client.create_experiment(dataset_name="questions", name="t", tags=["nightly"])
    untagged = opik_client.create_experiment(dataset_name="questions", name="u")
    opik_client.flush()

    by_id = opik_client.get_experiment_by_id(untagged.id).get_experiment_data()
    [by_name] = opik_client.get_experiments_by_name("u")
    listed = {
        experiment.id: experiment
        for experiment in opik_client.rest_client.experiments.find_experiments().content
    }

    assert (by_id.tags, by_name.tags, listed[untagged.id].tags) == (None, None, None)
    assert listed[tagged.id].tags == ["nightly"]
    # With no scores yet, an experiment has no feedback scores either.
    assert by_id.feedback_scores is None


def test_a_trace_and_a_span_whose_scores_are_all_deleted_have_none(opik_client):
    trace = opik_client.trace(name="lookup", input={"q": "status"})
    span = trace.span(name="retrieve", type="tool")
    trace.log_feedback_score("relevance", 0.25)
    span.log_feedback_score("precision", 1.0)
    opik_client.flush()
    assert [s.name for s in opik_client.get_trace_content(trace.id).feedback_scores] == [
        "relevance"
    ]

    opik_client.rest_client.traces.delete_trace_feedback_score(trace.id, name="relevance")
    opik_client.rest_client.spans.delete_span_feedback_score(span.id, name="precision")

    found_trace = opik_client.get_trace_content(trace.id)
    found_span = opik_client.get_span_content(span.id)
    assert (found_trace.feedback_scores, found_span.feedback_scores) == (None, None)
    assert (found_trace.tags, found_span.tags) == (None, None)


@pytest.mark.parametrize("unknown", ["not-existing-id", "0190f0d0-0000-7000-8000-000000000000"])
def test_an_unknown_id_is_not_found_whatever_its_form(opik_client, unknown):
    with pytest.raises(exceptions.ExperimentNotFound):
        opik_client.get_experiment_by_id(unknown)
    for read in (
        opik_client.get_trace_content,
        opik_client.get_span_content,
        opik_client.get_project,
        opik_client.rest_client.datasets.get_dataset_by_id,
        opik_client.rest_client.experiments.get_experiment_item_by_id,
    ):
        with pytest.raises(ApiError) as refused:
            read(unknown)
        assert refused.value.status_code == 404, read


def test_a_traces_metadata_names_the_providers_of_its_spans(opik_client):
    trace = opik_client.trace(name="answer", metadata={"release": "7"})
    llm_span = trace.span(name="draft", type="llm", provider="openai", metadata={"step": 1})
    trace.span(name="check", type="llm", provider="anthropic")
    trace.span(name="again", type="llm", provider="openai")
    tool_span = trace.span(name="lookup", type="tool", metadata={"step": 2})
    bare = opik_client.trace(name="no metadata")
    bare.span(name="draft", type="llm", provider="openai")
    untouched = opik_client.trace(name="no providers", metadata={"release": "7"})
    untouched.span(name="lookup", type="tool")
    opik_client.flush()

    found = opik_client.get_trace_content(trace.id)
    assert found.metadata == {"providers": ["anthropic", "openai"], "release": "7"}
    assert list(found.metadata) == ["providers", "release"]
    assert found.providers == ["anthropic", "openai"]
    assert opik_client.get_trace_content(bare.id).metadata == {"providers": ["openai"]}
    assert opik_client.get_trace_content(untouched.id).metadata == {"release": "7"}
    found_span = opik_client.get_span_content(llm_span.id)
    assert (found_span.metadata, found_span.provider) == (
        {"provider": "openai", "step": 1},
        "openai",
    )
    assert opik_client.get_span_content(tool_span.id).metadata == {"step": 2}
