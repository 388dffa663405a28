"""The SDK against a real ``seedbed serve`` process: start a job, follow it by events or
by polling, read its samples, cancel; errors surface as HTTP errors with the server's
message."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from seedbed.sdk import AsyncClient, Client, JobFailed
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import running_server

SEEDS = [{"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."}]


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=12, latency_ms=20)) as server:
        yield server


@pytest.fixture
def base_url(database, database_url, tmp_path, stub) -> Iterator[str]:
    with running_server(
        database_url, tmp_path, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test"
    ) as url:
        yield url


def test_start_follow_and_read_a_job(base_url):
    with Client(base_url) as seedbed:
        job = seedbed.start_job(30, seeds=SEEDS, model="gpt-4o-mini")
        updates = list(seedbed.events(job["id"]))
        finished = seedbed.wait(job["id"], timeout=30)
        samples = seedbed.job_items(job["id"])
        listed = seedbed.list_jobs()

    assert updates[-1]["status"] == "completed" and updates[-1]["accepted"] == 30
    assert finished["accepted"] == 30 and len(samples) == 30
    assert listed[0]["id"] == job["id"]


def test_a_job_that_fails_raises_with_its_account(base_url):
    with Client(base_url) as seedbed:
        job = seedbed.start_job(40, seeds=SEEDS, model="gpt-4o-mini", budget={"max_calls": 1})
        with pytest.raises(JobFailed, match="budget") as failed:
            seedbed.wait(job["id"], timeout=30)
    assert failed.value.job["status"] == "failed"


def test_bad_requests_raise_http_errors_with_the_servers_message(base_url):
    with Client(base_url) as seedbed:
        with pytest.raises(httpx.HTTPStatusError, match="gemini-pro"):
            seedbed.start_job(5, seeds=SEEDS, model="gemini-pro")
        with pytest.raises(httpx.HTTPStatusError, match="404"):
            seedbed.get_job("0199a000-0000-7000-8000-000000000000")


def test_the_async_client_does_the_same(base_url):
    async def scenario():
        async with AsyncClient(base_url) as seedbed:
            job = await seedbed.start_job(12, seeds=SEEDS, model="gpt-4o-mini")
            updates = [update async for update in seedbed.events(job["id"])]
            return updates, await seedbed.job_items(job["id"])

    updates, samples = asyncio.run(scenario())
    assert updates[-1]["status"] == "completed" and len(samples) == 12
