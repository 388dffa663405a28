"""Adding traces and spans to a dataset as items, as Opik's "add to dataset" does: the
input becomes the item's input, the output its expected output, the enrichment options
add spans, tags, scores, usage and metadata; all of it one new version."""

import datetime as dt

import pytest

from tests.api.opik_http import API, create_dataset, get_json
from tests.api.test_trace_search import T0, post, uuid7

OTHER = {"Comet-Workspace": "elsewhere"}


@pytest.fixture
def traced(client) -> dict:
    """One trace with input, output, tags, metadata and a score, an LLM span (with usage
    and a score) and a tool span under it."""
    trace_id = uuid7(T0)
    llm, tool = uuid7(T0, 2), uuid7(T0 + dt.timedelta(seconds=1), 3)
    post(
        client,
        "/traces/batch",
        {
            "traces": [
                {
                    "id": trace_id,
                    "project_name": "bot",
                    "name": "answer",
                    "start_time": T0.isoformat(),
                    "input": {"question": "where is my parcel?"},
                    "output": {"answer": "on its way"},
                    "tags": ["gold"],
                    "metadata": {"model": "m1"},
                }
            ]
        },
    )
    post(
        client,
        "/spans/batch",
        {
            "spans": [
                {
                    "id": llm,
                    "trace_id": trace_id,
                    "project_name": "bot",
                    "type": "llm",
                    "name": "call",
                    "start_time": T0.isoformat(),
                    "input": {"prompt": "p"},
                    "output": {"text": "on its way"},
                    "usage": {"total_tokens": 12},
                },
                {
                    "id": tool,
                    "trace_id": trace_id,
                    "parent_span_id": llm,
                    "project_name": "bot",
                    "type": "tool",
                    "name": "lookup",
                    "start_time": T0.isoformat(),
                    "input": {"q": "parcel"},
                },
            ]
        },
    )
    client.put(
        f"{API}/traces/feedback-scores",
        json={"scores": [{"id": trace_id, "name": "accuracy", "value": 1, "source": "sdk"}]},
    )
    client.put(
        f"{API}/spans/feedback-scores",
        json={"scores": [{"id": llm, "name": "fluency", "value": 0.5, "source": "ui"}]},
    )
    return {"trace": trace_id, "llm": llm, "tool": tool}


def items_of(client, dataset_id: str, headers: dict | None = None) -> list[dict]:
    return get_json(client, f"{API}/datasets/{dataset_id}/items", headers=headers)["content"]


def versions_of(client, dataset_id: str) -> list[dict]:
    return get_json(client, f"{API}/datasets/{dataset_id}/versions")["content"]


def test_a_trace_becomes_an_item_with_its_input_and_output(client, traced):
    dataset_id = create_dataset(client, "from traces")
    post(
        client,
        f"/datasets/{dataset_id}/items/from-traces",
        {"trace_ids": [traced["trace"]], "enrichment_options": {}},
    )
    [item] = items_of(client, dataset_id)
    assert item["source"] == "trace"
    assert item["trace_id"] == traced["trace"]
    assert item["data"] == {
        "input": {"question": "where is my parcel?"},
        "expected_output": {"answer": "on its way"},
    }


def test_enrichment_options_add_spans_tags_scores_usage_and_metadata(client, traced):
    dataset_id = create_dataset(client, "enriched")
    every_option = {
        "includeSpans": True,
        "includeTags": True,
        "includeFeedbackScores": True,
        "includeComments": True,
        "includeUsage": True,
        "includeMetadata": True,
    }
    post(
        client,
        f"/datasets/{dataset_id}/items/from-traces",
        {"trace_ids": [traced["trace"]], "enrichment_options": every_option},
    )
    data = items_of(client, dataset_id)[0]["data"]
    assert data["tags"] == ["gold"]
    assert data["metadata"] == {"model": "m1"}
    assert data["usage"] == {"total_tokens": 12}
    assert data["feedback_scores"] == [{"name": "accuracy", "value": 1.0, "source": "sdk"}]
    assert "comments" not in data  # seedbed keeps no comments
    llm, tool = data["spans"]
    assert (llm["id"], llm["type"], llm["output"]) == (traced["llm"], "llm", {"text": "on its way"})
    assert llm["feedback_scores"] == [{"name": "fluency", "value": 0.5, "source": "ui"}]
    assert llm["start_time"] == "2024-05-01T10:00:00Z"
    assert (tool["name"], tool["parent_span_id"], tool["input"]) == (
        "lookup",
        traced["llm"],
        {"q": "parcel"},
    )
    assert "output" not in tool


def test_spans_become_items_linked_to_their_span(client, traced):
    dataset_id = create_dataset(client, "from spans")
    post(
        client,
        f"/datasets/{dataset_id}/items/from-spans",
        {
            "span_ids": [traced["llm"], traced["tool"]],
            "enrichment_options": {"includeUsage": True, "includeFeedbackScores": True},
            "execution_policy": {"runs_per_item": 2, "pass_threshold": 1},
        },
    )
    found = {item["span_id"]: item for item in items_of(client, dataset_id)}
    llm = found[traced["llm"]]
    assert llm["source"] == "span"
    assert llm["data"] == {
        "input": {"prompt": "p"},
        "expected_output": {"text": "on its way"},
        "usage": {"total_tokens": 12},
        "feedback_scores": [{"name": "fluency", "value": 0.5, "source": "ui"}],
    }
    assert llm["execution_policy"] == {"runs_per_item": 2, "pass_threshold": 1}
    assert found[traced["tool"]]["data"] == {"input": {"q": "parcel"}}


def test_all_items_of_one_request_are_one_new_version(client, traced):
    dataset_id = create_dataset(client, "one version")
    post(
        client,
        f"/datasets/{dataset_id}/items/from-spans",
        {"span_ids": [traced["llm"], traced["tool"]], "enrichment_options": {}},
    )
    post(
        client,
        f"/datasets/{dataset_id}/items/from-traces",
        {"trace_ids": [traced["trace"]], "enrichment_options": {}},
    )
    versions = versions_of(client, dataset_id)
    assert [version["items_total"] for version in versions] == [3, 2]


def test_an_unknown_trace_is_a_404_and_adds_nothing(client, traced):
    dataset_id = create_dataset(client, "unknown")
    missing = uuid7(T0, 77)
    response = client.post(
        f"{API}/datasets/{dataset_id}/items/from-traces",
        json={"trace_ids": [traced["trace"], missing], "enrichment_options": {}},
    )
    assert response.status_code == 404
    assert response.json() == {"errors": [f"Trace not found: {missing}"]}
    assert items_of(client, dataset_id) == []
    assert versions_of(client, dataset_id) == []


def test_another_workspaces_traces_and_datasets_are_not_found(client, traced):
    theirs = create_dataset(client, "theirs", headers=OTHER)
    response = client.post(
        f"{API}/datasets/{theirs}/items/from-spans",
        json={"span_ids": [traced["llm"]], "enrichment_options": {}},
        headers=OTHER,
    )
    assert response.status_code == 404, response.text
    assert items_of(client, theirs, headers=OTHER) == []
    mine = create_dataset(client, "mine")
    response = client.post(
        f"{API}/datasets/{theirs}/items/from-traces",
        json={"trace_ids": [traced["trace"]], "enrichment_options": {}},
    )
    assert response.status_code == 404, response.text
    assert items_of(client, mine) == []


@pytest.mark.parametrize(
    "body",
    [
        {"trace_ids": [], "enrichment_options": {}},
        {"trace_ids": ["not-a-uuid"], "enrichment_options": {}},
        {"trace_ids": [uuid7(T0)]},
    ],
)
def test_bad_requests_are_answered_in_opiks_shape(client, body):
    dataset_id = create_dataset(client, "bad")
    response = client.post(f"{API}/datasets/{dataset_id}/items/from-traces", json=body)
    assert response.status_code in (400, 422), response.text
    assert "errors" in response.json() or "message" in response.json()


def test_a_dataset_id_that_names_nothing_is_not_found(client, traced):
    response = client.post(
        f"{API}/datasets/{uuid7(T0, 55)}/items/from-traces",
        json={"trace_ids": [traced["trace"]], "enrichment_options": {}},
    )
    assert response.status_code == 404, response.text
    assert response.json() == {"errors": ["Dataset not found"]}
