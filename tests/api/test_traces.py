"""Traces and spans over HTTP, as the Opik client's background batches send them: in any
order, in pieces, and more than once."""

import gzip
import json
import uuid

import pytest

from tests.api.opik_http import API, get_json

T0 = "2024-05-01T10:00:00Z"


def new_id() -> str:
    return str(uuid.uuid4())


def trace(trace_id: str, **fields) -> dict:
    return {"id": trace_id, "start_time": T0, **fields}


def span(span_id: str, trace_id: str, **fields) -> dict:
    return {"id": span_id, "trace_id": trace_id, "start_time": T0, **fields}


def send(client, method: str, path: str, body, headers: dict | None = None, status: int = 204):
    response = client.request(method, f"{API}{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response


def post_traces(client, *traces: dict, headers: dict | None = None) -> None:
    send(client, "POST", "/traces/batch", {"traces": list(traces)}, headers)


def post_spans(client, *spans: dict, headers: dict | None = None) -> None:
    send(client, "POST", "/spans/batch", {"spans": list(spans)}, headers)


def get_trace(client, trace_id: str, headers: dict | None = None) -> dict:
    return get_json(client, f"{API}/traces/{trace_id}", headers=headers)


def trace_ids(client, headers: dict | None = None, **params) -> list[str]:
    params.setdefault("project_name", "Default Project")
    found = get_json(client, f"{API}/traces", headers=headers, size=100, **params)
    return [listed["id"] for listed in found["content"]]


def test_a_created_trace_reads_back_with_every_field(client):
    trace_id = new_id()
    body = {
        "id": trace_id,
        "name": "answer question",
        "start_time": "2024-05-01T12:00:00+02:00",
        "end_time": "2024-05-01T10:00:01.250Z",
        "input": {"question": "Where is my order?"},
        "output": ["a", {"b": 1}],
        "metadata": "free text",
        "tags": ["prod", "eu"],
        "error_info": {"exception_type": "ValueError", "traceback": "line 1"},
        "thread_id": "conversation-7",
        "source": "experiment",
        "ttft": 12.5,
        "environment": "production",
    }

    response = send(client, "POST", "/traces", body, status=201)

    assert response.headers["location"] == f"{API}/traces/{trace_id}"
    found = get_trace(client, trace_id)
    same = ("id", "name", "input", "output", "metadata", "tags", "error_info", "thread_id")
    assert {key: found[key] for key in same} == {key: body[key] for key in same}
    assert (found["start_time"], found["end_time"], found["duration"]) == (
        "2024-05-01T10:00:00.000000Z",
        "2024-05-01T10:00:01.250000Z",
        1250.0,
    )
    assert (found["source"], found["created_by"], found["span_count"]) == ("experiment", "admin", 0)
    # A trace without scores has none to show: Opik leaves the field out.
    assert "feedback_scores" not in found


def test_a_trace_without_an_id_gets_one(client):
    response = send(client, "POST", "/traces", {"start_time": T0}, status=201)

    trace_id = response.headers["location"].rsplit("/", 1)[1]
    assert get_trace(client, trace_id)["id"] == trace_id


def test_a_patch_before_the_create_is_kept(client):
    trace_id = new_id()
    patch = {"end_time": "2024-05-01T10:00:03Z", "output": {"answer": 42}}
    send(client, "PATCH", f"/traces/{trace_id}", patch)

    post_traces(client, trace(trace_id, input={"q": "?"}, output=None, end_time=None))

    found = get_trace(client, trace_id)
    assert (found["input"], found["output"]) == ({"q": "?"}, {"answer": 42})
    assert found["duration"] == 3000.0


def test_writes_merge_field_by_field_and_null_never_erases(client):
    trace_id = new_id()
    post_traces(client, trace(trace_id, name="first", input={"q": 1}, metadata={"m": 1}))

    send(client, "PATCH", f"/traces/{trace_id}", {"output": {"a": 2}, "input": None, "name": None})
    post_traces(client, trace(trace_id, metadata={"m": 2}))

    found = get_trace(client, trace_id)
    assert (found["name"], found["input"], found["output"], found["metadata"]) == (
        "first",
        {"q": 1},
        {"a": 2},
        {"m": 2},
    )


def test_resending_the_same_batch_changes_nothing(client):
    trace_id, span_id = new_id(), new_id()
    sent_trace = trace(trace_id, end_time="2024-05-01T10:00:01Z", input={"q": [1, 2]})
    sent_span = span(span_id, trace_id, usage={"total_tokens": 5})
    post_traces(client, sent_trace)
    post_spans(client, sent_span)
    before = get_trace(client, trace_id)

    post_traces(client, sent_trace)
    post_spans(client, sent_span)

    assert get_trace(client, trace_id) == before
    assert trace_ids(client) == [trace_id]


def test_a_batch_naming_an_id_twice_stores_both_writes_in_order(client):
    trace_id = new_id()

    post_traces(
        client,
        trace(trace_id, name="old", input={"q": 1}),
        trace(trace_id, name="new", end_time="2024-05-01T10:00:00.5Z"),
    )

    found = get_trace(client, trace_id)
    assert (found["name"], found["input"], found["duration"]) == ("new", {"q": 1}, 500.0)


def test_duration_follows_the_latest_times_whichever_arrives_first(client):
    trace_id = new_id()
    send(client, "PATCH", f"/traces/{trace_id}", {"end_time": "2024-05-01T10:00:10Z"})
    assert "duration" not in get_trace(client, trace_id)

    post_traces(client, {"id": trace_id, "start_time": "2024-05-01T10:00:04Z"})
    assert get_trace(client, trace_id)["duration"] == 6000.0

    send(client, "PATCH", f"/traces/{trace_id}", {"end_time": "2024-05-01T10:00:04.000250Z"})
    assert get_trace(client, trace_id)["duration"] == 0.25


def test_spans_before_their_trace_add_up_in_it(client):
    trace_id, llm, tool = new_id(), new_id(), new_id()
    post_spans(
        client,
        span(
            llm,
            trace_id,
            type="llm",
            provider="openai",
            usage={"prompt_tokens": 10, "completion_tokens": 5},
            total_estimated_cost=0.5,
        ),
        span(tool, trace_id, type="tool", parent_span_id=llm, usage={"prompt_tokens": 1}),
        span(new_id(), trace_id, total_estimated_cost=0.25),
    )

    post_traces(client, trace(trace_id))

    found = get_trace(client, trace_id)
    assert found["usage"] == {"prompt_tokens": 11, "completion_tokens": 5}
    assert found["total_estimated_cost"] == 0.75
    assert (found["span_count"], found["llm_span_count"], found["providers"]) == (3, 1, ["openai"])


def test_a_span_reads_back_and_merges_like_a_trace(client):
    trace_id, span_id = new_id(), new_id()
    patch = {"trace_id": trace_id, "output": {"text": "hi"}, "tags_to_add": ["a"]}
    send(client, "PATCH", f"/spans/{span_id}", patch)

    created = span(
        span_id,
        trace_id,
        name="llm call",
        type="llm",
        model="gpt-4o-mini",
        end_time="2024-05-01T10:00:02Z",
        input={"prompt": "hello"},
    )
    response = send(client, "POST", "/spans", created, status=201)

    assert response.headers["location"] == f"{API}/spans/{span_id}"
    found = get_json(client, f"{API}/spans/{span_id}")
    same = ("id", "trace_id", "name", "type", "model", "input")
    assert {key: found[key] for key in same} == {key: created[key] for key in same}
    assert (found["start_time"], found["end_time"]) == (
        "2024-05-01T10:00:00.000000Z",
        "2024-05-01T10:00:02.000000Z",
    )
    assert (found["output"], found["tags"], found["duration"]) == ({"text": "hi"}, ["a"], 2000.0)


def test_patch_adds_and_removes_tags(client):
    trace_id = new_id()
    post_traces(client, trace(trace_id, tags=["a", "b", "a"]))
    assert get_trace(client, trace_id)["tags"] == ["a", "b"]

    send(
        client, "PATCH", f"/traces/{trace_id}", {"tags_to_add": ["c", "a"], "tags_to_remove": ["b"]}
    )

    assert get_trace(client, trace_id)["tags"] == ["a", "c"]


def test_traces_list_by_project_newest_first_page_by_page(client):
    created = [new_id() for _ in range(5)]
    post_traces(client, *(trace(trace_id, project_name="shop") for trace_id in created))
    post_traces(client, trace(new_id()))
    newest_first = sorted(created, reverse=True)

    first = get_json(client, f"{API}/traces", project_name="shop", page=1, size=3)
    second = get_json(client, f"{API}/traces", project_name="shop", page=2, size=3)

    assert [listed["id"] for listed in first["content"] + second["content"]] == newest_first
    assert (first["total"], first["size"], second["size"]) == (5, 3, 2)
    project_id = first["content"][0]["project_id"]
    assert trace_ids(client, project_id=project_id) == newest_first
    assert trace_ids(client, project_name="no such project") == []


def test_a_named_project_is_created_and_a_later_write_without_one_keeps_it(client):
    trace_id = new_id()
    send(client, "PATCH", f"/traces/{trace_id}", {"output": {"a": 1}})
    assert trace_ids(client) == [trace_id]

    post_traces(client, trace(trace_id, project_name="  support bot "))
    send(client, "PATCH", f"/traces/{trace_id}", {"name": "renamed"})

    projects = get_json(client, f"{API}/projects", name="support bot")["content"]
    assert [project["name"] for project in projects] == ["support bot"]
    assert get_trace(client, trace_id)["project_id"] == projects[0]["id"]
    assert trace_ids(client) == []


def test_an_unknown_project_id_is_not_found(client):
    trace_id = new_id()
    post_traces(client, trace(trace_id))

    for method, path, body in [
        ("PATCH", f"/traces/{trace_id}", {"project_id": new_id(), "name": "moved"}),
        ("PATCH", f"/spans/{new_id()}", {"trace_id": trace_id, "project_id": new_id()}),
    ]:
        response = send(client, method, path, body, status=404)
        assert response.json() == {"errors": ["Project not found"]}
    assert client.get(f"{API}/traces", params={"project_id": new_id()}).status_code == 404
    assert "name" not in get_trace(client, trace_id)


def test_workspaces_do_not_see_or_change_each_others_traces(client):
    team_a, team_b = {"Comet-Workspace": "team-a"}, {"Comet-Workspace": "team-b"}
    trace_id, span_id = new_id(), new_id()
    post_traces(client, trace(trace_id, name="mine"), headers=team_a)
    post_spans(client, span(span_id, trace_id), headers=team_a)

    assert client.get(f"{API}/traces/{trace_id}", headers=team_b).status_code == 404
    assert client.get(f"{API}/spans/{span_id}", headers=team_b).status_code == 404
    assert trace_ids(client, headers=team_b) == []
    send(client, "POST", "/traces/batch", {"traces": [trace(trace_id)]}, team_b, status=409)
    send(client, "PATCH", f"/spans/{span_id}", {"trace_id": trace_id, "name": "x"}, team_b, 409)
    send(client, "POST", "/traces/delete", {"ids": [trace_id]}, team_b)

    found = get_trace(client, trace_id, headers=team_a)
    assert (found["name"], found["span_count"]) == ("mine", 1)
    assert "name" not in get_json(client, f"{API}/spans/{span_id}", headers=team_a)


def test_deleting_traces_takes_their_spans_and_scores(client):
    kept, gone, span_id = new_id(), new_id(), new_id()
    post_traces(client, trace(kept), trace(gone))
    post_spans(client, span(span_id, gone))
    score = {"name": "accuracy", "value": 1, "source": "sdk"}
    send(client, "PUT", "/traces/feedback-scores", {"scores": [{"id": gone, **score}]})
    send(client, "PUT", f"/spans/{span_id}/feedback-scores", score)

    send(client, "DELETE", f"/traces/{gone}", None)
    send(client, "POST", "/traces/delete", {"ids": [gone, new_id()]})

    assert client.get(f"{API}/traces/{gone}").status_code == 404
    assert client.get(f"{API}/spans/{span_id}").status_code == 404
    assert trace_ids(client) == [kept]
    post_traces(client, trace(gone))
    post_spans(client, span(span_id, gone))
    assert "feedback_scores" not in get_trace(client, gone)
    assert "feedback_scores" not in get_json(client, f"{API}/spans/{span_id}")


# -- bad input: a clear 4xx in Opik's shape, and nothing stored ----------------------------

GOOD = {"start_time": T0}
SPAN = {**GOOD, "trace_id": "0190c1c4-0000-7000-8000-000000000001"}
NAN = b'{"start_time": "2024-05-01T10:00:00Z", "input": {"x": NaN}}'
SURROGATE = b'{"start_time": "2024-05-01T10:00:00Z", "name": "\\ud800"}'
DEEP = json.loads("[" * 300 + "]" * 300)
BAD_REQUESTS = {
    "malformed JSON": ("POST", "/traces/batch", b'{"traces": [', 400),
    "malformed gzip": ("POST", "/traces/batch", b"\x1f\x8bnope", 400),
    "trace id not a UUID": ("POST", "/traces/batch", {"traces": [{**GOOD, "id": "t-1"}]}, 422),
    "path id not a UUID": ("PATCH", "/traces/trace-1", {"name": "x"}, 404),
    "span path id not a UUID": ("GET", "/spans/not-a-uuid", None, 404),
    "no start time": ("POST", "/traces", {"name": "x"}, 422),
    "bad time": ("POST", "/traces", {"start_time": "yesterday"}, 422),
    "time out of range": ("POST", "/traces", {"start_time": "0001-01-01T00:00:00+01:00"}, 422),
    "input a number": ("POST", "/traces", {**GOOD, "input": 42}, 422),
    "NUL in output": ("POST", "/traces", {**GOOD, "output": {"text": "a\x00b"}}, 422),
    "lone surrogate": ("POST", "/traces", SURROGATE, 422),
    "NaN in input": ("POST", "/traces", NAN, 422),
    "too deep": ("POST", "/traces", {**GOOD, "metadata": DEEP}, 422),
    "unknown source": ("POST", "/traces", {**GOOD, "source": "elsewhere"}, 422),
    "blank project": ("POST", "/traces", {**GOOD, "project_name": "  "}, 422),
    "thread id too long": ("POST", "/traces", {**GOOD, "thread_id": "t" * 256}, 422),
    "no traceback": ("POST", "/traces", {**GOOD, "error_info": {"exception_type": "E"}}, 422),
    "empty batch": ("POST", "/traces/batch", {"traces": []}, 422),
    "batch too large": ("POST", "/traces/batch", {"traces": [GOOD] * 1001}, 422),
    "one bad of two": ("POST", "/traces/batch", {"traces": [GOOD, {**GOOD, "tags": "a"}]}, 422),
    "span without trace": ("POST", "/spans", GOOD, 422),
    "usage not a count": ("POST", "/spans/batch", {"spans": [{**SPAN, "usage": {"t": 1.5}}]}, 422),
    "usage a boolean": ("POST", "/spans", {**SPAN, "usage": {"t": True}}, 422),
    "negative cost": ("POST", "/spans", {**SPAN, "total_estimated_cost": -1}, 422),
    "unknown span type": ("POST", "/spans", {**SPAN, "type": "agent"}, 422),
    "delete nothing": ("POST", "/traces/delete", {"ids": []}, 422),
    "list without project": ("GET", "/traces", None, 400),
}


def _stored(client) -> list:
    traces = [get_trace(client, trace_id) for trace_id in trace_ids(client)]
    return traces + [get_json(client, f"{API}/projects")["total"]]


@pytest.mark.parametrize("method, path, body, status", BAD_REQUESTS.values(), ids=BAD_REQUESTS)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(client, method, path, body, status):
    post_traces(client, trace(new_id(), input={"q": 1}))
    before = _stored(client)

    if isinstance(body, bytes):
        headers = {"Content-Type": "application/json"}
        if body.startswith(b"\x1f\x8b"):
            headers["Content-Encoding"] = "gzip"
        response = client.request(method, f"{API}{path}", content=body, headers=headers)
    else:
        response = client.request(method, f"{API}{path}", json=body)

    assert response.status_code == status, response.text
    expected_keys = {"errors"} if status in (404, 409, 422) else {"code", "message"}
    assert set(response.json()) == expected_keys
    assert _stored(client) == before


def test_gzipped_batches_are_read_and_oversized_ones_refused(client, settings):
    trace_id = new_id()
    body = json.dumps({"traces": [trace(trace_id, input={"text": "x" * 1000})]}).encode()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}

    response = client.post(f"{API}/traces/batch", content=gzip.compress(body), headers=headers)
    assert response.status_code == 204, response.text
    assert get_trace(client, trace_id)["input"] == {"text": "x" * 1000}

    huge = json.dumps({"traces": [{**GOOD, "input": "x" * (settings.max_body_bytes + 1)}]})
    headers = {"Content-Type": "application/json"}
    response = client.post(f"{API}/traces/batch", content=huge, headers=headers)
    assert response.status_code == 413
    assert trace_ids(client) == [trace_id]
