"""The SDK against a real ``seedbed serve`` process: start a job, follow it by events or
by polling, read its samples, cancel; errors surface as the SDK's own errors with the
server's message, never as httpx's."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from seedbed.sdk import (
    APIError,
    AsyncClient,
    Client,
    JobFailed,
    JobTimedOut,
    NotFound,
    RequestRefused,
    SeedbedClientError,
    ServerError,
    ServerUnreachable,
)
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


def test_bad_requests_raise_the_sdks_errors_with_the_servers_message(base_url):
    with Client(base_url) as seedbed:
        with pytest.raises(RequestRefused, match="gemini-pro") as refused:
            seedbed.start_job(5, seeds=SEEDS, model="gemini-pro")
        with pytest.raises(NotFound) as missing:
            seedbed.get_job("0199a000-0000-7000-8000-000000000000")
        with pytest.raises(RequestRefused, match="count"):
            seedbed.start_job(0, seeds=SEEDS)
        job = seedbed.start_job(40, seeds=SEEDS, model="gpt-4o-mini")
        with pytest.raises(JobTimedOut, match=job["id"]) as timed_out:
            seedbed.wait(job["id"], timeout=0)

    assert refused.value.status_code == 400 and not isinstance(refused.value, httpx.HTTPError)
    assert missing.value.status_code == 404 and "not found" in missing.value.message.lower()
    assert isinstance(timed_out.value, TimeoutError)


def test_a_server_that_does_not_answer_is_unreachable_not_an_httpx_error():
    with Client("http://127.0.0.1:9", timeout=2) as seedbed:
        with pytest.raises(ServerUnreachable, match="127.0.0.1:9") as unreachable:
            seedbed.get_job("0199a000-0000-7000-8000-000000000000")
    assert isinstance(unreachable.value.__cause__, httpx.TransportError)

    async def scenario():
        async with AsyncClient("http://127.0.0.1:9", timeout=2) as seedbed:
            await seedbed.get_job("0199a000-0000-7000-8000-000000000000")

    with pytest.raises(ServerUnreachable):
        asyncio.run(scenario())


@pytest.mark.parametrize(
    "status, body, kind, message",
    [
        (400, {"code": 400, "message": "count must be positive"}, RequestRefused, "count must"),
        (404, {"errors": ["Job not found"]}, NotFound, "Job not found"),
        (422, {"detail": [{"loc": ["body"], "msg": "field required"}]}, RequestRefused, "field"),
        (503, "upstream down", ServerError, "upstream down"),
        (418, {"detail": "a teapot"}, APIError, "a teapot"),
    ],
)
def test_each_error_status_is_its_own_error_with_the_servers_words(status, body, kind, message):
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with Client("http://seedbed.test", transport=httpx.MockTransport(answer)) as seedbed:
        with pytest.raises(kind, match=message) as raised:
            seedbed.list_jobs()
        with pytest.raises(kind):
            list(seedbed.events("job"))
    assert isinstance(raised.value, SeedbedClientError) and raised.value.status_code == status


def test_the_async_client_does_the_same(base_url):
    async def scenario():
        async with AsyncClient(base_url) as seedbed:
            job = await seedbed.start_job(12, seeds=SEEDS, model="gpt-4o-mini")
            updates = [update async for update in seedbed.events(job["id"])]
            return updates, await seedbed.job_items(job["id"])

    updates, samples = asyncio.run(scenario())
    assert updates[-1]["status"] == "completed" and len(samples) == 12
