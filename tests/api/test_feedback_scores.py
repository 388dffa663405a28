"""Feedback scores of traces and spans over HTTP: stored whatever arrives first, one per
author and name, averaged over authors when read."""

import uuid

import pytest

from tests.api.opik_http import API, get_json

T0 = "2024-05-01T10:00:00Z"


def new_id() -> str:
    return str(uuid.uuid4())


def send(client, method: str, path: str, body, headers: dict | None = None, status: int = 204):
    response = client.request(method, f"{API}{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response


def score_traces(client, *scores: dict, headers: dict | None = None, status: int = 204):
    return send(client, "PUT", "/traces/feedback-scores", {"scores": list(scores)}, headers, status)


def score(trace_id: str, name: str = "accuracy", value=0.5, **more) -> dict:
    return {"id": trace_id, "name": name, "value": value, "source": "sdk", **more}


def create_trace(client, trace_id: str, headers: dict | None = None, **fields) -> None:
    send(
        client,
        "POST",
        "/traces/batch",
        {"traces": [{"id": trace_id, "start_time": T0, **fields}]},
        headers,
    )


def scores_of(client, trace_id: str, headers: dict | None = None) -> list[dict]:
    return get_json(client, f"{API}/traces/{trace_id}", headers=headers)["feedback_scores"]


def names(client, **params) -> list[str]:
    return [
        entry["name"]
        for entry in get_json(client, f"{API}/traces/feedback-scores/names", **params)["scores"]
    ]


def test_a_score_sent_before_its_trace_is_kept(client):
    trace_id = new_id()
    score_traces(client, score(trace_id, value=0.75, reason="close enough", category_name="good"))

    create_trace(client, trace_id)

    [found] = scores_of(client, trace_id)
    assert (
        found["name"],
        found["value"],
        found["reason"],
        found["category_name"],
        found["source"],
    ) == (
        "accuracy",
        0.75,
        "close enough",
        "good",
        "sdk",
    )
    assert found["value_by_author"]["admin"]["value"] == 0.75


def test_the_author_defaults_to_the_caller_and_each_author_keeps_one_score(client):
    trace_id = new_id()
    create_trace(client, trace_id)

    score_traces(client, score(trace_id, value=0.2), score(trace_id, value=1, author="reviewer"))
    score_traces(client, score(trace_id, value=0.4, reason="second look"))

    [found] = scores_of(client, trace_id)
    assert found["value"] == pytest.approx(0.7)
    assert {author: entry["value"] for author, entry in found["value_by_author"].items()} == {
        "admin": 0.4,
        "reviewer": 1.0,
    }
    assert found["reason"] == "second look"


def test_scores_of_several_names_and_traces_in_one_batch(client):
    first, second = new_id(), new_id()

    score_traces(
        client,
        score(first, "accuracy", 1),
        score(first, "relevance", 0),
        score(second, "accuracy", 0.5),
    )
    create_trace(client, first)
    create_trace(client, second)

    assert [(s["name"], s["value"]) for s in scores_of(client, first)] == [
        ("accuracy", 1.0),
        ("relevance", 0.0),
    ]
    assert [(s["name"], s["value"]) for s in scores_of(client, second)] == [("accuracy", 0.5)]


def test_a_batch_naming_a_score_twice_keeps_the_last(client):
    trace_id = new_id()
    create_trace(client, trace_id)

    score_traces(client, score(trace_id, value=0.1), score(trace_id, value=0.9))

    assert [s["value"] for s in scores_of(client, trace_id)] == [0.9]


def test_resending_a_score_changes_nothing(client):
    trace_id = new_id()
    create_trace(client, trace_id)
    score_traces(client, score(trace_id, reason="fine"))
    before = scores_of(client, trace_id)

    score_traces(client, score(trace_id, reason="fine"))
    send(
        client,
        "PUT",
        f"/traces/{trace_id}/feedback-scores",
        {"name": "accuracy", "value": 0.5, "source": "sdk", "reason": "fine"},
    )

    assert scores_of(client, trace_id) == before


def test_one_score_put_and_deleted_by_name_and_author(client):
    trace_id = new_id()
    create_trace(client, trace_id)
    send(
        client,
        "PUT",
        f"/traces/{trace_id}/feedback-scores",
        {"name": "accuracy", "value": -3, "source": "ui"},
    )
    score_traces(client, score(trace_id, value=5, author="reviewer"), score(trace_id, "tone", 1))

    send(
        client,
        "POST",
        f"/traces/{trace_id}/feedback-scores/delete",
        {"name": "accuracy", "author": "reviewer"},
    )
    assert [(s["name"], s["value"]) for s in scores_of(client, trace_id)] == [
        ("accuracy", -3.0),
        ("tone", 1.0),
    ]

    send(client, "POST", f"/traces/{trace_id}/feedback-scores/delete", {"name": "accuracy"})
    send(client, "POST", f"/traces/{trace_id}/feedback-scores/delete", {"name": "never given"})
    assert [s["name"] for s in scores_of(client, trace_id)] == ["tone"]


def test_span_scores_are_stored_read_and_deleted(client):
    trace_id, span_id = new_id(), new_id()
    send(
        client,
        "PUT",
        f"/spans/{span_id}/feedback-scores",
        {"name": "hallucination", "value": 0, "source": "sdk"},
    )
    send(
        client,
        "PUT",
        "/spans/feedback-scores",
        {"scores": [score(span_id, "hallucination", 1, author="judge")]},
    )
    send(
        client,
        "POST",
        "/spans/batch",
        {"spans": [{"id": span_id, "trace_id": trace_id, "start_time": T0}]},
    )

    [found] = get_json(client, f"{API}/spans/{span_id}")["feedback_scores"]
    assert (found["name"], found["value"], sorted(found["value_by_author"])) == (
        "hallucination",
        0.5,
        ["admin", "judge"],
    )
    span_names = get_json(client, f"{API}/spans/feedback-scores/names")["scores"]
    assert [entry["name"] for entry in span_names] == ["hallucination"]
    assert names(client) == []

    send(client, "POST", f"/spans/{span_id}/feedback-scores/delete", {"name": "hallucination"})
    assert "feedback_scores" not in get_json(client, f"{API}/spans/{span_id}")


def test_score_names_follow_the_project_of_their_trace(client):
    in_shop, unsent = new_id(), new_id()
    score_traces(client, score(in_shop, "accuracy"), score(unsent, "latency", project_name="ops"))
    score_traces(client, score(in_shop, "relevance", project_name="shop"))
    create_trace(client, in_shop, project_name="shop")
    projects = {p["name"]: p["id"] for p in get_json(client, f"{API}/projects")["content"]}

    assert names(client) == ["accuracy", "latency", "relevance"]
    assert names(client, project_id=projects["shop"]) == ["accuracy", "relevance"]
    assert names(client, project_id=projects["ops"]) == ["latency"]
    assert (
        client.get(
            f"{API}/traces/feedback-scores/names", params={"project_id": new_id()}
        ).status_code
        == 404
    )


def test_scores_stay_in_their_workspace(client):
    team_a, team_b = {"Comet-Workspace": "team-a"}, {"Comet-Workspace": "team-b"}
    trace_id = new_id()
    create_trace(client, trace_id, headers=team_a)
    score_traces(client, score(trace_id, value=1), headers=team_a)

    score_traces(client, score(trace_id, value=0), headers=team_b, status=409)
    score_traces(client, score(trace_id, "tone", 0), headers=team_b)
    send(client, "POST", f"/traces/{trace_id}/feedback-scores/delete", {"name": "accuracy"}, team_b)

    assert [(s["name"], s["value"]) for s in scores_of(client, trace_id, team_a)] == [
        ("accuracy", 1.0)
    ]
    assert names(client, headers=team_b) == ["tone"]


# -- bad input: a clear 4xx in Opik's shape, and nothing stored ----------------------------

TRACE = "0190c1c4-0000-7000-8000-000000000001"
BAD_SCORES = {
    "value a word": [score(TRACE, value="high")],
    "value a boolean": [score(TRACE, value=True)],
    "value too large": [score(TRACE, value=1e10)],
    "value too small": [score(TRACE, value=-1_000_000_001)],
    "value missing": [{"id": TRACE, "name": "accuracy", "source": "sdk"}],
    "value null": [score(TRACE, value=None)],
    "unknown source": [score(TRACE, source="robot")],
    "no source": [{"id": TRACE, "name": "accuracy", "value": 1}],
    "blank name": [score(TRACE, name="")],
    "name too long": [score(TRACE, name="n" * 256)],
    "id not a UUID": [score("trace-1")],
    "NUL in reason": [score(TRACE, reason="a\x00b")],
    "one bad of two": [score(TRACE, "fine"), score(TRACE, value="high")],
    "no scores": [],
}


def _stored(client) -> list:
    return names(client) + [get_json(client, f"{API}/projects")["total"]]


@pytest.mark.parametrize("scores", BAD_SCORES.values(), ids=BAD_SCORES.keys())
def test_bad_scores_are_a_422_and_store_nothing(client, scores):
    score_traces(client, score(TRACE, "kept"))
    before = _stored(client)

    response = score_traces(client, *scores, status=422)

    assert set(response.json()) == {"errors"} and response.json()["errors"]
    assert _stored(client) == before


@pytest.mark.parametrize(
    "path, body, status",
    [
        (f"/traces/{TRACE}/feedback-scores", b'{"name": "a", "value": NaN, "source": "sdk"}', 422),
        (
            f"/traces/{TRACE}/feedback-scores",
            b'{"name": "a", "value": Infinity, "source": "sdk"}',
            422,
        ),
        (f"/traces/{TRACE}/feedback-scores", b'{"name": "a", "value": ', 400),
        ("/traces/not-a-uuid/feedback-scores", b'{"name": "a", "value": 1, "source": "sdk"}', 404),
        (
            f"/spans/{TRACE}/feedback-scores",
            b'{"name": "a", "value": "1e999", "source": "sdk"}',
            422,
        ),
    ],
)
def test_unreadable_single_scores_are_refused(client, path, body, status):
    response = client.put(
        f"{API}{path}", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == status, response.text
    assert set(response.json()) == ({"errors"} if status in (404, 422) else {"code", "message"})
    assert names(client) == []
