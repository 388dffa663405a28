"""``POST /datasets/{id}/expansions`` as Opik's clients call it: exactly the samples
asked for, marked as generated, never saved; bad requests refused in Opik's error
shapes without paying for a call or changing what is stored. The LLM is a real HTTP
server speaking OpenAI's protocol."""

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.api.opik_http import API, create_dataset, get_json, put_items
from tests.stub_calls import sample_prompts

SEEDS = [
    {"question": question, "answer": answer, "topic": topic}
    for question, answer, topic in [
        ("How do I reset my password?", "Use the link on the sign-in page.", "account"),
        ("Can I pay by invoice?", "Yes, on the business plan.", "billing"),
        ("Where is my order?", "The tracking link is in your confirmation email.", "shipping"),
        ("How do I delete my account?", "Settings, then Privacy, then Delete.", "account"),
        ("Do you ship to Canada?", "Yes, within five business days.", "shipping"),
    ]
]
MARKERS = ("_generated", "_generation_model")
EXPANSION = {"model": "gpt-4o-mini", "sample_count": 12}


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=3)) as server:
        yield server


@pytest.fixture
def client(database, database_url, tmp_path, stub) -> Iterator[TestClient]:
    """The app in-process, local mode, with OpenAI's provider pointed at the stub."""
    settings = Settings(
        database_url=database_url,
        home=tmp_path,
        openai_api_key="test",
        openai_base_url=stub.base_url,
        # A dead provider is declared dead in well under a second.
        generation_max_retries=1,
        generation_breaker_cooldown_seconds=0.01,
    )
    registry = ProviderRegistry(settings, load_plugins=False)
    with TestClient(create_app(settings, database, providers=registry)) as test_client:
        yield test_client


@pytest.fixture
def dataset_id(client) -> str:
    """A dataset holding the seeds, in one version."""
    created = create_dataset(client, "support-faq")
    put_items(client, created, [{"data": seed} for seed in SEEDS])
    return created


def expand(client, dataset_id: str, prefix: str = API, headers: dict | None = None, **body):
    return client.post(f"{prefix}/datasets/{dataset_id}/expansions", json=body, headers=headers)


def stored(client, dataset_id: str | None = None, headers: dict | None = None) -> dict:
    """Everything a user could see change: a workspace's datasets, and a dataset's items
    and versions."""

    def page(path: str) -> list[dict]:
        return get_json(client, f"{API}{path}", headers=headers, size=100)["content"]

    datasets = page("/datasets")
    seen = {"datasets": sorted((d["id"], d["name"], d["dataset_items_count"]) for d in datasets)}
    if dataset_id is not None:
        items = page(f"/datasets/{dataset_id}/items")
        versions = page(f"/datasets/{dataset_id}/versions")
        seen["items"] = sorted((i["id"], json.dumps(i["data"], sort_keys=True)) for i in items)
        seen["versions"] = [(v["version_hash"], v["items_total"]) for v in versions]
    return seen


def unmarked(data: dict) -> dict:
    return {key: value for key, value in data.items() if key not in MARKERS}


def assert_generated(body: dict, count: int) -> None:
    """``count`` samples in the seeds' shape, marked, new, and not repeating each other."""
    samples = body["generated_samples"]
    assert len(samples) == count
    assert body["total_generated"] == count
    seen = [json.dumps(unmarked(sample["data"]), sort_keys=True) for sample in samples]
    assert len(set(seen)) == count, "a sample was generated twice"
    for sample in samples:
        data = sample["data"]
        assert data["_generated"] is True
        assert data["_generation_model"] == "openai/gpt-4o-mini"
        assert set(unmarked(data)) == set(SEEDS[0])
        assert unmarked(data) not in SEEDS


# -- generating -----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [API, f"/api{API}"])
def test_expansion_returns_exactly_the_samples_asked_for_and_saves_none(
    client, stub, dataset_id, prefix
):
    before = stored(client, dataset_id)

    response = expand(client, dataset_id, prefix, **EXPANSION)

    assert response.status_code == 200, response.text
    body = response.json()
    assert_generated(body, 12)
    assert body["model"] == "gpt-4o-mini"
    generated_at = dt.datetime.fromisoformat(body["generation_time"].replace("Z", "+00:00"))
    assert abs(dt.datetime.now(dt.UTC) - generated_at) < dt.timedelta(minutes=1)
    assert all(sample["dataset_id"] == dataset_id for sample in body["generated_samples"])
    assert stub.stats["requests"] >= 1
    assert stored(client, dataset_id) == before


def test_preserved_fields_and_variation_instructions_reach_the_prompt(client, stub, dataset_id):
    response = expand(
        client,
        dataset_id,
        model="gpt-4o-mini",
        sample_count=3,
        preserve_fields=["topic"],
        variation_instructions="Ask about refunds in a polite tone.",
    )

    assert response.status_code == 200, response.text
    assert_generated(response.json(), 3)
    sent = sample_prompts(stub)
    assert sent
    assert all("Ask about refunds in a polite tone." in prompt for prompt in sent)
    preserving = "consistent with the patterns of the examples: topic"
    assert all(preserving in prompt for prompt in sent)


def test_a_misbehaving_provider_still_yields_exactly_the_count(client, stub, dataset_id):
    stub.set_behaviour(
        StubBehaviour(seed=5, fault_rate=0.2, duplicate_rate=0.2, retry_after_seconds=0.05)
    )

    response = expand(client, dataset_id, model="gpt-4o-mini", sample_count=30)

    assert response.status_code == 200, response.text
    assert_generated(response.json(), 30)
    # The stub really misbehaved. Which requests it picks depends on the order they
    # arrive in, so this counts faults and duplicates together: over some 40 draws at
    # 20 % each, a run with neither is far rarer than one in ten thousand.
    stats = stub.stats
    faults = sum(count for status, count in stats["by_status"].items() if status != "200")
    assert faults + stats["by_kind"]["malformed"] + stats["duplicates_injected"] > 0


def test_the_same_expansion_asked_twice_makes_new_samples(client, stub, dataset_id):
    """As in Opik, each expansion is a new generation: a person asking again wants more
    samples to choose from, not the same ones replayed from the cache."""
    first = expand(client, dataset_id, **EXPANSION)
    assert first.status_code == 200, first.text
    paid = stub.stats["requests"]

    again = expand(client, dataset_id, **EXPANSION)

    assert again.status_code == 200, again.text
    assert_generated(again.json(), 12)
    assert stub.stats["requests"] > paid
    texts = {
        json.dumps(sample["data"], sort_keys=True) for sample in first.json()["generated_samples"]
    }
    assert not texts & {
        json.dumps(sample["data"], sort_keys=True) for sample in again.json()["generated_samples"]
    }


# -- refusing ---------------------------------------------------------------------------------


def assert_error_shape(response, status: int) -> str:
    """Opik's shapes: ``{"errors": [...]}`` for 404 and 422, else ``{"code", "message"}``.
    Returns the messages as one text."""
    assert response.status_code == status, response.text
    body = response.json()
    if status in (404, 422):
        assert set(body) == {"errors"}
        assert body["errors"]
        assert all(isinstance(message, str) and message for message in body["errors"])
        return " ".join(body["errors"])
    assert set(body) == {"code", "message"}
    assert body["code"] == status and body["message"]
    return body["message"]


# name: (body, the field the error must name)
INVALID_BODIES = {
    "no model": ({"sample_count": 3}, "model"),
    "empty model": ({"model": "", "sample_count": 3}, "model"),
    "blank model": ({"model": "   ", "sample_count": 3}, "model"),
    "no samples": ({"model": "gpt-4o-mini", "sample_count": 0}, "sample_count"),
    "too many samples": ({"model": "gpt-4o-mini", "sample_count": 201}, "sample_count"),
    "too few completion tokens": (
        {"model": "gpt-4o-mini", "max_completion_tokens": 99},
        "max_completion_tokens",
    ),
}


@pytest.mark.parametrize(("body", "field"), INVALID_BODIES.values(), ids=INVALID_BODIES)
def test_an_invalid_request_is_refused_with_422_naming_the_field(
    client, stub, dataset_id, body, field
):
    before = stored(client, dataset_id)

    message = assert_error_shape(expand(client, dataset_id, **body), 422)

    assert field in message
    assert stub.stats["requests"] == 0
    assert stored(client, dataset_id) == before


def test_a_body_that_is_not_json_is_refused_with_400(client, stub, dataset_id):
    before = stored(client, dataset_id)

    response = client.post(
        f"{API}/datasets/{dataset_id}/expansions",
        content=b'{"model": "gpt-4o-mini", ',
        headers={"Content-Type": "application/json"},
    )

    assert "JSON" in assert_error_shape(response, 400)
    assert stub.stats["requests"] == 0
    assert stored(client, dataset_id) == before


def test_a_dataset_without_items_cannot_be_expanded(client, stub):
    empty = create_dataset(client, "empty")
    before = stored(client, empty)

    message = assert_error_shape(expand(client, empty, **EXPANSION), 400)

    assert "no items" in message
    assert stub.stats["requests"] == 0
    assert stored(client, empty) == before


def test_an_unknown_dataset_is_not_found(client, stub, dataset_id):
    before = stored(client, dataset_id)

    assert_error_shape(expand(client, str(uuid.uuid4()), **EXPANSION), 404)

    assert stub.stats["requests"] == 0
    assert stored(client, dataset_id) == before


def test_another_workspaces_dataset_is_not_found(client, stub):
    theirs = {"Comet-Workspace": "team-b"}
    elsewhere = create_dataset(client, "theirs", headers=theirs)
    put_items(client, elsewhere, [{"data": seed} for seed in SEEDS], headers=theirs)
    before = stored(client), stored(client, elsewhere, theirs)

    assert_error_shape(expand(client, elsewhere, **EXPANSION), 404)

    assert stub.stats["requests"] == 0
    assert (stored(client), stored(client, elsewhere, theirs)) == before
    # The owner can expand it.
    owned = expand(client, elsewhere, headers=theirs, model="gpt-4o-mini", sample_count=2)
    assert owned.status_code == 200, owned.text


def test_a_model_no_provider_serves_is_refused_with_400_naming_it(client, stub, dataset_id):
    before = stored(client, dataset_id)

    response = expand(client, dataset_id, model="gemini-pro", sample_count=3)

    message = assert_error_shape(response, 400)

    assert "gemini-pro" in message
    assert stub.stats["requests"] == 0
    assert stored(client, dataset_id) == before


def test_a_provider_that_is_down_is_a_502_saying_so(client, dataset_id, stub):
    before = stored(client, dataset_id)
    stub.set_behaviour(StubBehaviour(server_error_rate=1.0))

    response = expand(client, dataset_id, model="gpt-4o-mini", sample_count=3)

    assert response.status_code == 502
    body = response.json()
    assert body["code"] == 502
    assert "generated 0 of 3 samples: the provider kept failing" in body["message"]
    assert stub.stats["requests"] > 0
    assert stored(client, dataset_id) == before
