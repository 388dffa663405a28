"""What a job tells about the quality of its samples, over seedbed's own API: the report,
each sample's measures, held-out items kept out of every prompt, and runs that are fresh
unless a seed asks for a replay."""

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.api.opik_http import create_dataset, put_items

JOBS = "/seedbed/v1/jobs"
TICKETS = [
    {"ticket": "My parcel is two weeks late and tracking shows nothing", "team": "shipping"},
    {"ticket": "I was charged twice for the same order last Friday", "team": "billing"},
    {"ticket": "The courier left the box at the wrong address", "team": "shipping"},
    {"ticket": "Please send me a VAT invoice for my company purchase", "team": "billing"},
    {"ticket": "I cannot reset my password, the email never arrives", "team": "account"},
    {"ticket": "How do I add a second user to our account", "team": "account"},
]
HELD_OUT = {"ticket": "Can you split my payment over three months interest free", "team": "billing"}


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=4, out_of_set_rate=0.2, placeholder_rate=0.2)) as server:
        yield server


@pytest.fixture
def client(database, database_url, tmp_path, stub) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        home=tmp_path,
        openai_api_key="test",
        openai_base_url=stub.base_url,
    )
    app = create_app(settings, database, providers=ProviderRegistry(settings, load_plugins=False))
    with TestClient(app) as test_client:
        yield test_client


def finished(client, body: dict) -> dict:
    response = client.post(JOBS, json={"model": "gpt-4o-mini", **body})
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    deadline = time.monotonic() + 240
    while True:
        job = client.get(f"{JOBS}/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_a_job_reports_the_quality_of_what_it_made(client):
    dataset_id = create_dataset(client, "tickets")
    put_items(
        client,
        dataset_id,
        [{"data": ticket} for ticket in TICKETS] + [{"data": HELD_OUT, "tags": ["held-out"]}],
    )

    job = finished(client, {"count": 30, "dataset_id": dataset_id})

    assert job["status"] == "completed", job["detail"]
    report = client.get(f"{JOBS}/{job['id']}/report").json()
    assert report["accepted"] == 30 and report["requested"] == 30
    assert report["rejected"]["out_of_set"] > 0 and report["rejected"]["placeholder"] > 0
    assert report["closed_sets"]["team"]["inside_share"] == 1.0
    assert set(report["axes"]["team"]) == {"shipping", "billing", "account"}
    assert report["diversity"]["samples"]["distinct_2"] > 0
    items = client.get(f"{JOBS}/{job['id']}/items").json()["content"]
    assert all(0 <= item["quality"]["nearest_seed_similarity"] < 0.75 for item in items)
    assert {item["data"]["team"] for item in items} <= {"shipping", "billing", "account"}


def test_held_out_items_never_reach_a_prompt(client, stub):
    dataset_id = create_dataset(client, "tickets")
    put_items(
        client,
        dataset_id,
        [{"data": ticket} for ticket in TICKETS] + [{"data": HELD_OUT, "tags": ["held-out"]}],
    )

    job = finished(client, {"count": 20, "dataset_id": dataset_id})

    assert job["status"] == "completed", job["detail"]
    prompts = json.dumps(stub.stats["calls"])
    assert "interest free" not in prompts
    assert "two weeks late" in prompts


def test_runs_are_fresh_unless_a_seed_asks_for_a_replay(client, stub):
    first = finished(client, {"count": 10, "seeds": TICKETS, "seed": 42})
    paid = stub.stats["requests"]
    replay = finished(client, {"count": 10, "seeds": TICKETS, "seed": 42})
    fresh = finished(client, {"count": 10, "seeds": TICKETS})

    assert first["status"] == replay["status"] == fresh["status"] == "completed"
    assert replay["calls"] == 0 and replay["cached_calls"] > 0
    assert fresh["calls"] > 0 and stub.stats["requests"] > paid
