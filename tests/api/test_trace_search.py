"""Searching traces and spans as Opik's clients do: the streamed searches (newline-
delimited JSON, newest first, continuing below ``last_retrieved_id``) and the paged span
listing, with Opik's filters."""

import datetime as dt
import json
import uuid

import pytest

from tests.api.opik_http import API, get_json

T0 = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=dt.UTC)


def uuid7(moment: dt.datetime, tail: int = 1) -> str:
    """An id as a client makes it when a step begins at ``moment``."""
    unix_ms = int(moment.timestamp() * 1000)
    return str(uuid.UUID(int=(unix_ms << 80) | (0x7 << 76) | (0x2 << 62) | tail))


def post(client, path: str, body, status: int = 204, headers: dict | None = None):
    response = client.post(f"{API}{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response


def stream(client, path: str, body: dict, headers: dict | None = None) -> list[dict]:
    response = post(client, path, body, status=200, headers=headers)
    assert response.headers["content-type"] == "application/octet-stream"
    return [json.loads(line) for line in response.text.splitlines()]


@pytest.fixture
def project(client) -> dict:
    """Three traces a minute apart in project "bot", each with an LLM span and a tool
    span; the second is tagged, scored and has metadata; one trace elsewhere."""
    traces, spans = [], []
    for minute in range(3):
        start = T0 + dt.timedelta(minutes=minute)
        trace_id = uuid7(start)
        traces.append(
            {
                "id": trace_id,
                "project_name": "bot",
                "name": f"answer {minute}",
                "start_time": start.isoformat(),
                "input": {"question": f"question number {minute}"},
                **({"tags": ["gold"], "metadata": {"model": "m1"}} if minute == 1 else {}),
            }
        )
        for tail, kind in ((2, "llm"), (3, "tool")):
            spans.append(
                {
                    "id": uuid7(start, tail),
                    "trace_id": trace_id,
                    "project_name": "bot",
                    "type": kind,
                    "name": kind,
                    "start_time": start.isoformat(),
                    **(
                        {
                            "model": "gpt-4o-mini",
                            "usage": {"total_tokens": 10 * (minute + 1)},
                            "total_estimated_cost": 0.01,
                        }
                        if kind == "llm"
                        else {}
                    ),
                }
            )
    elsewhere = {"id": uuid7(T0, 9), "project_name": "other", "start_time": T0.isoformat()}
    post(client, "/traces/batch", {"traces": [*traces, elsewhere]})
    post(client, "/spans/batch", {"spans": spans})
    scores = [{"id": traces[1]["id"], "name": "accuracy", "value": 0.9, "source": "sdk"}]
    client.put(f"{API}/traces/feedback-scores", json={"scores": scores})
    return {"traces": traces, "spans": spans}


def names(found: list[dict]) -> list[str]:
    return [row["name"] for row in found]


def test_traces_stream_newest_first_in_pages_below_the_last_id(client, project):
    first = stream(client, "/traces/search", {"project_name": "bot", "limit": 2})
    assert names(first) == ["answer 2", "answer 1"]
    rest = stream(
        client,
        "/traces/search",
        {"project_name": "bot", "limit": 2, "last_retrieved_id": first[-1]["id"]},
    )
    assert names(rest) == ["answer 0"]
    # Each trace as Opik presents it, with what its spans add up to.
    assert (first[0]["span_count"], first[0]["llm_span_count"], first[0]["usage"]) == (
        2,
        1,
        {"total_tokens": 30},
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"field": "tags", "operator": "contains", "value": "gold"}], ["answer 1"]),
        ([{"field": "name", "operator": "ends_with", "value": "2"}], ["answer 2"]),
        ([{"field": "input", "operator": "contains", "value": "NUMBER 0"}], ["answer 0"]),
        (
            [
                {
                    "field": "input_json",
                    "key": "question",
                    "operator": "=",
                    "value": "question number 2",
                }
            ],
            ["answer 2"],
        ),  # fmt: skip
        ([{"field": "metadata", "key": "model", "operator": "=", "value": "m1"}], ["answer 1"]),
        (
            [{"field": "feedback_scores", "key": "accuracy", "operator": ">=", "value": "0.5"}],
            ["answer 1"],
        ),  # fmt: skip
        (
            [{"field": "feedback_scores", "key": "accuracy", "operator": "is_empty", "value": ""}],
            ["answer 2", "answer 0"],
        ),  # fmt: skip
        (
            [{"field": "usage.total_tokens", "key": "", "operator": ">", "value": "15"}],
            ["answer 2", "answer 1"],
        ),  # fmt: skip
        (
            [{"field": "total_estimated_cost", "operator": ">", "value": "0"}],
            ["answer 2", "answer 1", "answer 0"],
        ),  # fmt: skip
        (
            [
                {"field": "start_time", "operator": ">=", "value": "2024-05-01T10:01:00Z"},
                {"field": "span_count", "operator": "=", "value": "2"},
            ],
            ["answer 2", "answer 1"],
        ),
    ],
)
def test_trace_filters_narrow_the_search(client, project, filters, expected):
    body = {"project_name": "bot", "filters": filters}
    assert names(stream(client, "/traces/search", body)) == expected


def test_a_time_window_bounds_the_ids_searched(client, project):
    body = {
        "project_name": "bot",
        "from_time": (T0 + dt.timedelta(seconds=30)).isoformat(),
        "to_time": (T0 + dt.timedelta(minutes=1, seconds=30)).isoformat(),
    }
    assert names(stream(client, "/traces/search", body)) == ["answer 1"]
    assert len(stream(client, "/spans/search", body)) == 2


def test_spans_of_a_trace_or_a_type_stream_with_fields_left_out(client, project):
    trace_id = project["traces"][0]["id"]
    found = stream(
        client,
        "/spans/search",
        {"project_name": "bot", "trace_id": trace_id, "exclude": ["input", "usage", "model"]},
    )
    assert [(span["trace_id"], span["type"]) for span in found] == [
        (trace_id, "tool"),
        (trace_id, "llm"),
    ]
    assert not any({"usage", "model"} & set(span) for span in found)
    llm = stream(client, "/spans/search", {"project_name": "bot", "type": "llm"})
    assert [span["usage"]["total_tokens"] for span in llm] == [30, 20, 10]
    costly = stream(
        client,
        "/spans/search",
        {
            "project_name": "bot",
            "filters": [{"field": "usage.total_tokens", "operator": ">=", "value": "20"}],
        },
    )
    assert len(costly) == 2


def test_the_span_listing_pages_with_a_total_and_takes_a_trace_id_range(client, project):
    page = get_json(client, f"{API}/spans", project_name="bot", size=4, page=2)
    assert (page["page"], page["size"], page["total"]) == (2, 2, 6)
    traces = project["traces"]
    # The range the CLI's export bounds its span scan with (strict > and <).
    bounded = get_json(
        client,
        f"{API}/spans",
        project_name="bot",
        size=10,
        filters=[
            {"field": "trace_id", "operator": ">", "value": traces[0]["id"]},
            {"field": "trace_id", "operator": "<", "value": traces[2]["id"]},
        ],
    )
    assert {span["trace_id"] for span in bounded["content"]} == {traces[1]["id"]}


def test_a_project_that_does_not_exist_holds_nothing_and_an_unknown_id_is_not_found(
    client, project
):
    assert stream(client, "/traces/search", {"project_name": "nobody"}) == []
    missing = post(client, "/traces/search", {"project_id": str(uuid.uuid4())}, status=404)
    assert missing.json() == {"errors": ["Project not found"]}


def test_another_workspace_sees_none_of_the_projects_traces(client, project):
    other = {"Comet-Workspace": "elsewhere"}
    assert stream(client, "/traces/search", {"project_name": "bot"}, headers=other) == []
    page = get_json(client, f"{API}/spans", headers=other, project_name="bot")
    assert page["total"] == 0


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/traces/search", {}, "project_name or project_id is required"),
        (
            "/traces/search",
            {"project_name": "bot", "filters": [{"field": "colour", "operator": "="}]},
            "unknown field 'colour'",
        ),
        (
            "/spans/search",
            {"project_name": "bot", "filters": [{"field": "tags", "operator": ">", "value": "a"}]},
            "operator '>' does not apply to field 'tags'",
        ),
        (
            "/traces/search",
            {
                "project_name": "bot",
                "filters": [{"field": "duration", "operator": ">", "value": "x"}],
            },  # fmt: skip
            "filter on 'duration' needs a number",
        ),
        (
            "/spans/search",
            {
                "project_name": "bot",
                "from_time": "2024-05-02T00:00:00Z",
                "to_time": "2024-05-01T00:00:00Z",
            },  # fmt: skip
            "to_time must be after from_time",
        ),
        ("/traces/search", {"project_name": "bot", "filters": ["tags"]}, "each filter must be"),
    ],
)
def test_bad_searches_are_refused_in_opiks_shape(client, project, path, body, message):
    refused = post(client, path, body, status=400).json()
    assert refused["code"] == 400 and message in refused["message"]


def test_a_limit_outside_opiks_range_is_refused(client, project):
    for limit in (0, 2001):
        post(client, "/traces/search", {"project_name": "bot", "limit": limit}, status=422)
    refused = client.get(f"{API}/spans", params={"project_name": "bot", "exclude": '["colour"]'})
    assert refused.status_code == 400


def listed(client, headers: dict | None = None, **params) -> dict:
    return get_json(client, f"{API}/traces", headers=headers, project_name="bot", **params)


def test_the_trace_listing_takes_the_searchs_filters_with_a_matching_total(client, project):
    tagged = listed(client, filters=[{"field": "tags", "operator": "contains", "value": "gold"}])
    assert (names(tagged["content"]), tagged["total"]) == (["answer 1"], 1)
    heavy = listed(
        client,
        size=1,
        page=2,
        filters=[{"field": "usage.total_tokens", "operator": ">", "value": "15"}],
    )
    assert (names(heavy["content"]), heavy["page"], heavy["total"]) == (["answer 1"], 2, 2)
    scored = listed(
        client,
        filters=[{"field": "feedback_scores", "key": "accuracy", "operator": ">=", "value": "0.5"}],
    )
    assert names(scored["content"]) == ["answer 1"]
    other = listed(client, headers={"Comet-Workspace": "elsewhere"}, filters=[])
    assert other["total"] == 0


def test_the_trace_listing_sorts_and_bounds_by_time(client, project):
    by_name = listed(client, sorting=[{"field": "name", "direction": "ASC"}])
    assert names(by_name["content"]) == ["answer 0", "answer 1", "answer 2"]
    by_tokens = listed(client, sorting=[{"field": "usage.total_tokens", "direction": "DESC"}])
    assert names(by_tokens["content"]) == ["answer 2", "answer 1", "answer 0"]
    windowed = listed(
        client,
        from_time=(T0 + dt.timedelta(seconds=30)).isoformat(),
        to_time=(T0 + dt.timedelta(minutes=1, seconds=30)).isoformat(),
    )
    assert names(windowed["content"]) == ["answer 1"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filters": '[{"field": "colour", "operator": "="}]'}, "unknown field 'colour'"),
        ({"filters": "not json"}, "filters must be a JSON array"),
        ({"sorting": '[{"field": "name", "direction": "UP"}]'}, "sorting direction"),
    ],
)
def test_a_bad_listing_filter_is_refused_in_opiks_shape(client, project, params, message):
    refused = client.get(f"{API}/traces", params={"project_name": "bot", **params})
    assert refused.status_code == 400, refused.text
    assert message in refused.json()["message"]
