"""``seedbed expand --detach`` queues a durable job; a running ``seedbed serve`` runs
it; ``seedbed jobs watch|list|cancel`` follow and stop it."""

import json
from collections.abc import Iterator

import pytest

from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import running_server

SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Where is my order?", "answer": "The tracking link is in your email."},
]


@pytest.fixture
def stub(monkeypatch) -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=8)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        yield server


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps(seed) + "\n" for seed in SEEDS), encoding="utf-8")
    return path


def test_a_detached_job_is_queued_listed_and_cancelled(seedbed, stub, seed_file):
    queued = seedbed("expand", seed_file, "-n", 30, "--model", "gpt-4o-mini", "--detach")
    job_id = queued.stdout.strip()

    assert f"seedbed jobs watch {job_id}" in queued.stderr
    listed = seedbed("jobs", "list").stdout
    assert job_id in listed and "queued" in listed and "0/30" in listed
    assert seedbed("jobs", "cancel", job_id).stdout.split() == [job_id, "cancelled"]
    watched = seedbed.fails("jobs", "watch", job_id)
    assert "cancelled" in watched.stderr
    assert stub.stats["requests"] == 0  # nothing ran it


def test_a_running_server_runs_a_detached_job_and_watch_follows_it(
    seedbed, stub, seed_file, database_url, tmp_path
):
    with running_server(
        database_url, tmp_path, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test"
    ):
        job_id = seedbed(
            "expand", seed_file, "-n", 25, "--model", "gpt-4o-mini", "--detach", "--into", "grown"
        ).stdout.strip()
        watched = seedbed("jobs", "watch", job_id, "--interval", "0.2")

    assert "completed: 25 samples into dataset 'grown' (v1)" in watched.stderr
    assert "grown\t25\tv1" in seedbed("datasets", "list").stdout


def test_watching_an_unknown_job_fails_clearly(seedbed):
    result = seedbed.fails("jobs", "watch", "0199a000-0000-7000-8000-000000000000")
    assert "not found" in result.stderr


def test_a_finished_job_has_a_quality_report(seedbed, stub, seed_file, database_url, tmp_path):
    with running_server(
        database_url, tmp_path, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test"
    ):
        job_id = seedbed(
            "expand", seed_file, "-n", 12, "--model", "gpt-4o-mini", "--detach"
        ).stdout.strip()
        seedbed("jobs", "watch", job_id, "--interval", "0.2")

    text = seedbed("jobs", "report", job_id).stdout
    as_json = json.loads(seedbed("jobs", "report", job_id, "--json").stdout)

    assert "quality report: 12 of 12 samples" in text
    assert as_json["accepted"] == 12 and as_json["nearest_seed_similarity"]["count"] == 12
    unknown = seedbed.fails("jobs", "report", "0199a000-0000-7000-8000-000000000000")
    assert "not found in workspace 'default'" in unknown.stderr
