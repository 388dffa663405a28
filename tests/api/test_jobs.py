"""Generation jobs through seedbed's own API: start, watch (JSON and server-sent
events), read the samples, cancel; bad requests refused without a job being made."""

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.api.opik_http import API, create_dataset, get_json, put_items
from tests.stub_calls import sample_calls

JOBS = "/seedbed/v1/jobs"
SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
    {
        "question": "Where is my order?",
        "answer": "The tracking link is in your confirmation email.",
    },
]


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=9)) as server:
        yield server


@pytest.fixture
def client(database, database_url, tmp_path, stub) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        home=tmp_path,
        openai_api_key="test",
        openai_base_url=stub.base_url,
        generation_max_retries=1,
        generation_breaker_cooldown_seconds=0.01,
    )
    app = create_app(settings, database, providers=ProviderRegistry(settings, load_plugins=False))
    with TestClient(app) as test_client:
        yield test_client


def start(client, **body) -> dict:
    response = client.post(JOBS, json={"model": "gpt-4o-mini", **body})
    assert response.status_code == 201, response.text
    return response.json()


def wait_until_finished(client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"{JOBS}/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def items_of(client, job_id: str) -> list[dict]:
    return client.get(f"{JOBS}/{job_id}/items", params={"limit": 10_000}).json()["content"]


def test_a_job_from_seeds_delivers_exactly_the_count_with_its_account(client, stub):
    stub.set_behaviour(StubBehaviour(seed=2, fault_rate=0.2, duplicate_rate=0.2))
    created = start(client, count=230, seeds=SEEDS)
    assert (
        created["status"] == "queued"
        and created["requested"] == 230
        and created["chunks_total"] == 3
    )

    job = wait_until_finished(client, created["id"])

    assert job["status"] == "completed", job["detail"]
    assert job["accepted"] == 230 and job["progress"] == 1.0 and job["chunks_done"] == 3
    assert job["calls"] >= stub.stats["requests"] > 0
    assert job["prompt_tokens"] > 0 and job["cost"] > 0
    assert job["rejected"].get("duplicate", 0) > 0
    stored = items_of(client, created["id"])
    assert len(stored) == 230
    assert len({json.dumps(item["data"], sort_keys=True) for item in stored}) == 230
    assert all(set(item["data"]) == {"question", "answer"} for item in stored)
    assert stored[0]["provenance"]["model"] == "openai/gpt-4o-mini"


def test_a_job_plans_topics_unless_told_not_to(client, stub):
    planned = wait_until_finished(client, start(client, count=6, seeds=SEEDS)["id"])
    assert planned["status"] == "completed"
    assert all(item["provenance"]["topic"] for item in items_of(client, planned["id"]))
    calls = stub.stats["calls"]
    assert len(calls) > len(sample_calls(stub))  # the topics' call, then the samples'

    stub.reset_stats()
    plain = wait_until_finished(
        client, start(client, count=6, seeds=SEEDS, plan_topics=False)["id"]
    )
    assert plain["status"] == "completed"
    assert not any(item["provenance"]["topic"] for item in items_of(client, plain["id"]))
    assert stub.stats["calls"] == sample_calls(stub)


def test_a_job_from_a_dataset_saves_its_samples_as_a_new_version(client):
    dataset_id = create_dataset(client, "support")
    put_items(client, dataset_id, [{"data": seed} for seed in SEEDS])

    job = wait_until_finished(
        client, start(client, count=12, dataset_id=dataset_id, save=True)["id"]
    )

    assert job["status"] == "completed" and job["written_version"] == "v2"
    items = get_json(client, f"{API}/datasets/{dataset_id}/items", size=100)["content"]
    generated = [item for item in items if "generated" in item["tags"]]
    assert len(items) == 15 and len(generated) == 12
    # The user's fields exactly; where the sample came from is in its tags.
    assert all(set(item["data"]) == set(SEEDS[0]) for item in generated)
    assert all(
        {"model:openai/gpt-4o-mini", f"job:{job['id']}"} <= set(item["tags"]) for item in generated
    )


def test_progress_streams_as_server_sent_events(client, stub):
    stub.set_behaviour(StubBehaviour(seed=4, latency_ms=100))
    job_id = start(client, count=40, seeds=SEEDS, target_dataset_name="streamed")["id"]

    events = []
    with client.stream("GET", f"{JOBS}/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))

    assert events[-1][0] == "finished" and events[-1][1]["status"] == "completed"
    assert {name for name, _ in events[:-1]} <= {"progress"} and len(events) >= 2
    accepted = [data["accepted"] for _, data in events]
    assert accepted == sorted(accepted) and accepted[-1] == 40


def test_cancel_stops_a_running_job_and_keeps_what_it_made(client, stub):
    stub.set_behaviour(StubBehaviour(seed=6, latency_ms=300))
    job_id = start(client, count=500, seeds=SEEDS, target_dataset_name="never-filled")["id"]
    deadline = time.monotonic() + 20
    while client.get(f"{JOBS}/{job_id}").json()["accepted"] < 5:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    assert client.post(f"{JOBS}/{job_id}/cancel").json()["cancel_requested"] is True
    job = wait_until_finished(client, job_id)

    assert job["status"] == "cancelled"
    kept = len(items_of(client, job_id))
    assert 5 <= kept == job["accepted"] < 500
    time.sleep(1)
    assert len(items_of(client, job_id)) == kept  # nothing more arrives
    assert job["written_version"] is None


def test_a_job_that_runs_out_of_budget_fails_and_says_why(client):
    job = wait_until_finished(
        client, start(client, count=50, seeds=SEEDS, budget={"max_calls": 1})["id"]
    )

    assert job["status"] == "failed"
    assert "budget" in job["detail"] and "max_calls=1" in job["detail"]
    assert 0 < job["accepted"] < 50


def test_jobs_are_listed_newest_first_and_kept_per_workspace(client):
    first = start(client, count=1, seeds=SEEDS)["id"]
    second = start(client, count=1, seeds=SEEDS)["id"]

    listed = client.get(JOBS).json()
    assert [job["id"] for job in listed["content"]][:2] == [second, first] and listed["total"] == 2
    other = {"Comet-Workspace": "elsewhere"}
    assert client.get(JOBS, headers=other).json()["total"] == 0
    assert client.get(f"{JOBS}/{first}", headers=other).status_code == 404
    assert client.post(f"{JOBS}/{first}/cancel", headers=other).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"count": 0, "seeds": SEEDS}, 422, "count"),
        ({"count": 5}, 422, "exactly one source"),
        ({"count": 5, "seeds": SEEDS, "dataset_name": "x"}, 422, "exactly one source"),
        ({"count": 5, "seeds": ["not an object"]}, 422, "seeds"),
        ({"count": 5, "seeds": []}, 400, "at least one seed"),
        ({"count": 5, "seeds": SEEDS, "data_types": ["Haiku Query"]}, 400, "unknown data type"),
        ({"count": 5, "seeds": SEEDS, "model": "gemini-pro"}, 400, "gemini-pro"),
        ({"count": 5, "dataset_name": "no-such-dataset"}, 404, "not found"),
        ({"count": 5, "seeds": SEEDS, "save": True}, 400, "source dataset"),
    ],
)
def test_bad_requests_are_refused_and_make_no_job(client, stub, body, status, message):
    response = client.post(JOBS, json={"model": "gpt-4o-mini", **body})

    assert response.status_code == status, response.text
    assert message in json.dumps(response.json())
    assert client.get(JOBS).json()["total"] == 0
    assert stub.stats["requests"] == 0


def test_an_unknown_job_is_a_404(client):
    assert client.get(f"{JOBS}/0199a000-0000-7000-8000-000000000000").status_code == 404
    assert client.get(f"{JOBS}/not-a-uuid").status_code in (400, 404)
