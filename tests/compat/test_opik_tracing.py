"""The unmodified Opik Python client logging traces, spans and feedback scores to
``seedbed serve``, read back over seedbed's HTTP API and through the client itself."""

import datetime as dt

import httpx
import pytest

pytestmark = [
    pytest.mark.compat,
    # Raised inside httpx by how the Opik client builds its HTTP client; not ours to fix.
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

START = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=dt.UTC)


def _get(server: str, path: str, **params) -> dict:
    response = httpx.get(
        f"{server}/api/v1/private/{path}", params=params, headers={"Comet-Workspace": "default"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_logged_trace_with_a_span_and_scores_reads_back(opik_client, server):
    trace = opik_client.trace(
        name="answer question",
        start_time=START,
        input={"question": "Where is my order?"},
        tags=["prod"],
        project_name="support-bot",
    )
    span = trace.span(
        name="llm call",
        type="llm",
        start_time=START + dt.timedelta(milliseconds=100),
        input={"prompt": "Where is my order?"},
        model="gpt-4o-mini",
        provider="openai",
        usage={"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
        total_cost=0.002,
    )
    span.end(end_time=START + dt.timedelta(milliseconds=900), output={"text": "On its way"})
    trace.end(
        end_time=START + dt.timedelta(seconds=1, milliseconds=500), output={"answer": "On its way"}
    )
    opik_client.log_traces_feedback_scores(
        [{"id": trace.id, "name": "accuracy", "value": 0.9, "reason": "close enough"}],
        project_name="support-bot",
    )
    opik_client.log_spans_feedback_scores(
        [{"id": span.id, "name": "fluency", "value": 1}], project_name="support-bot"
    )
    opik_client.flush()

    found = _get(server, f"traces/{trace.id}")
    assert (found["name"], found["input"], found["output"], found["tags"]) == (
        "answer question",
        {"question": "Where is my order?"},
        {"answer": "On its way"},
        ["prod"],
    )
    assert found["duration"] == 1500.0
    assert (found["span_count"], found["total_estimated_cost"]) == (1, pytest.approx(0.002))
    assert {
        key: found["usage"][key] for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    } == {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
    }
    [score] = found["feedback_scores"]
    assert (score["name"], score["value"], score["reason"], score["source"]) == (
        "accuracy",
        0.9,
        "close enough",
        "sdk",
    )
    project = _get(server, "projects", name="support-bot")["content"][0]
    assert found["project_id"] == project["id"]
    assert [
        listed["id"] for listed in _get(server, "traces", project_name="support-bot")["content"]
    ] == [trace.id]

    logged_span = _get(server, f"spans/{span.id}")
    assert (logged_span["trace_id"], logged_span["model"], logged_span["output"]) == (
        trace.id,
        "gpt-4o-mini",
        {"text": "On its way"},
    )
    assert logged_span["duration"] == 800.0
    assert [(s["name"], s["value"]) for s in logged_span["feedback_scores"]] == [("fluency", 1.0)]


def test_the_client_reads_back_what_it_logged(opik_client):
    trace = opik_client.trace(name="lookup", input={"q": "status"}, output={"a": "shipped"})
    trace.span(name="retrieve", type="tool", output={"rows": 3}).end()
    trace.log_feedback_score("relevance", 0.25, reason="partly")
    opik_client.flush()

    content = opik_client.get_trace_content(trace.id)

    assert (content.name, content.input, content.output) == (
        "lookup",
        {"q": "status"},
        {"a": "shipped"},
    )
    assert [(s.name, s.value, s.reason) for s in content.feedback_scores] == [
        ("relevance", 0.25, "partly")
    ]
    assert content.span_count == 1
