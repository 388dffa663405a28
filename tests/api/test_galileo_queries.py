"""Galileo's dataset queries (``POST /datasets/query``) are read at the Galileo edge into
the dataset service's query: name and id filters, sorting by Galileo's field names, and
what Galileo can ask but seedbed cannot apply refused with Galileo's (FastAPI's) 422."""

import json

import pytest

ROWS = [{"input": "a question"}]


def _create(client, name: str, rows: int) -> dict:
    content = "".join(json.dumps(ROWS[0]) + "\n" for _ in range(rows)).encode()
    response = client.post(
        "/datasets",
        params={"format": "jsonl"},
        data={"name": name},
        files={"file": (name, content, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [found["name"] for found in response.json()["datasets"]]


def test_name_and_id_filters_and_galileos_sort_fields_apply(client):
    small = _create(client, "faq small", 1)
    _create(client, "faq large", 3)
    _create(client, "other", 2)

    by_rows = client.post(
        "/datasets/query",
        json={
            "filters": [{"name": "name", "operator": "contains", "value": "faq"}],
            "sort": {"name": "num_rows", "ascending": False},
        },
    )
    not_small = client.post(
        "/datasets/query",
        json={
            "filters": [{"name": "id", "operator": "ne", "value": small["id"]}],
            "sort": {"name": "name", "ascending": True},
        },
    )
    newest_first = client.post("/datasets/query", json={})

    assert _names(by_rows) == ["faq large", "faq small"]
    assert _names(not_small) == ["faq large", "other"]
    assert _names(newest_first) == ["other", "faq large", "faq small"]


@pytest.mark.parametrize(
    "body, location",
    [
        ({"filters": [{"name": "name", "operator": "gt", "value": "a"}]}, ["body", "filters", 0]),
        ({"filters": [{"name": "id", "value": "not-a-uuid"}]}, ["body", "filters", 0]),
        ({"filters": "name=faq"}, ["body", "filters"]),
        ({"sort": {"name": "size"}}, ["body", "sort", "name"]),
    ],
)
def test_a_query_galileo_cannot_send_is_a_422_in_fastapis_shape(client, body, location):
    response = client.post("/datasets/query", json=body)

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert all({"loc", "msg", "type"} <= set(problem) for problem in detail)
    assert any(problem["loc"][: len(location)] == location for problem in detail), detail


def test_a_body_that_is_not_json_is_refused_in_fastapis_shape(client):
    response = client.post(
        "/datasets/query", content=b"{filters", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
