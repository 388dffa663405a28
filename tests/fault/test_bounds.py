"""Every integer and every free-text generation field is bounded at the edge of its
surface: a value past the bound is a 4xx in the surface's shape, never a 500 from the
database (an integer it cannot hold) nor a huge prompt sent to a provider. And a CSV
file whose header holds a bare carriage return is a 400, not a 500."""

import uuid

import pytest

from seedbed.domain.limits import MAX_EXAMPLE_CHARS, MAX_INSTRUCTIONS_CHARS, MAX_PROMPT_CHARS
from tests.api.opik_http import API, create_dataset, put_items
from tests.fault.test_openapi_fuzz import assert_error_shape

HUGE = 2**63  # one past the largest 64-bit integer
SEED = {"question": "How do I reset my password?", "answer": "Use the sign-in page."}


def assert_refused(response, path: str, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    assert_error_shape(path, response.status_code, response.json())


@pytest.fixture
def dataset_id(client) -> str:
    created = create_dataset(client, "bounded")
    put_items(client, created, [{"data": SEED}])
    return created


@pytest.mark.parametrize("value", [HUGE, 10**30])
def test_huge_page_and_sequence_numbers_are_refused(client, value):
    job_id = str(uuid.uuid4())
    for path, params in [
        ("/seedbed/v1/jobs", {"page": value}),
        (f"/seedbed/v1/jobs/{job_id}/items", {"after": value}),
        (f"{API}/datasets", {"page": value}),
        (f"{API}/datasets", {"size": value}),
    ]:
        assert_refused(client.get(path, params=params), path, 422)


@pytest.mark.parametrize("name", ["v9223372036854775808", "v2147483648", "v" + "9" * 5_000])
def test_a_version_number_past_any_version_is_not_found(client, dataset_id, name):
    retrieve = f"{API}/datasets/{dataset_id}/versions/retrieve"
    assert_refused(client.post(retrieve, json={"version_name": name}), retrieve)
    restore = f"{API}/datasets/{dataset_id}/versions/restore"
    assert_refused(client.post(restore, json={"version_ref": name}), restore, 404)
    items = f"{API}/datasets/{dataset_id}/items"
    assert_refused(client.get(items, params={"version": name}), items, 404)


def test_the_first_version_is_still_found_by_name(client, dataset_id):
    retrieve = client.post(
        f"{API}/datasets/{dataset_id}/versions/retrieve", json={"version_name": "v1"}
    )
    assert retrieve.status_code == 200, retrieve.text


def test_a_galileo_version_index_past_any_version_is_refused(client):
    response = client.post(
        "/datasets/extend",
        json={
            "source_dataset": {"dataset_id": str(uuid.uuid4()), "dataset_version_index": HUGE},
            "count": 2,
        },
    )
    assert_refused(response, "/datasets/extend", 422)


def test_a_csv_header_with_a_bare_carriage_return_is_a_400(client, dataset_id):
    path = f"{API}/datasets/items/from-csv"
    response = client.post(
        path,
        data={"dataset_id": dataset_id},
        files={"file": ("items.csv", b"a\rb,c\n1,2\n", "text/csv")},
    )
    assert_refused(response, path, 400)


def test_a_csv_with_carriage_return_line_ends_is_read(client, dataset_id):
    response = client.post(
        f"{API}/datasets/items/from-csv",
        data={"dataset_id": dataset_id},
        files={"file": ("items.csv", b"question,answer\r\nWhy?,Because.\r\n", "text/csv")},
    )
    assert response.status_code == 202, response.text
    items = client.get(f"{API}/datasets/{dataset_id}/items").json()["content"]
    assert {"question": "Why?", "answer": "Because."} in [item["data"] for item in items]


OVERSIZED = {
    "instructions": "x" * (MAX_INSTRUCTIONS_CHARS + 1),
    "prompt": "x" * (MAX_PROMPT_CHARS + 1),
    "example": "x" * (MAX_EXAMPLE_CHARS + 1),
}


def _requests(dataset_id: str) -> list[tuple[str, dict]]:
    """Each surface's generation request with one free-text field over its bound."""
    job = {"count": 2, "seeds": [SEED]}
    expansion = {"model": "gpt-4o-mini", "sample_count": 2}
    extend = {"examples": ["How do I reset my password?"], "count": 2}
    collinear = {"model_id": "gpt-4o-mini", "multiplier": 1, "examples": [SEED], "prompt": ""}
    big_seed = {"question": OVERSIZED["example"], "answer": "a"}
    return [
        ("/seedbed/v1/jobs", {**job, "instructions": OVERSIZED["instructions"]}),
        ("/seedbed/v1/jobs", {**job, "custom_prompt": OVERSIZED["prompt"]}),
        ("/seedbed/v1/jobs", {**job, "seeds": [big_seed]}),
        (
            f"{API}/datasets/{dataset_id}/expansions",
            {**expansion, "variation_instructions": OVERSIZED["instructions"]},
        ),
        (
            f"{API}/datasets/{dataset_id}/expansions",
            {**expansion, "custom_prompt": OVERSIZED["prompt"]},
        ),
        ("/datasets/extend", {**extend, "instructions": OVERSIZED["instructions"]}),
        ("/datasets/extend", {**extend, "prompt": OVERSIZED["prompt"]}),
        ("/datasets/extend", {**extend, "examples": [OVERSIZED["example"]]}),
        ("/api/v1/synth_data/generate", {**collinear, "prompt": OVERSIZED["prompt"]}),
        ("/api/v1/synth_data/generate", {**collinear, "examples": [big_seed]}),
    ]


def test_oversized_generation_text_is_refused_at_every_surface(client, dataset_id):
    for path, body in _requests(dataset_id):
        response = client.post(path, json=body)
        assert_refused(response, path, 422)
        assert "at most" in response.text, (path, response.text)
