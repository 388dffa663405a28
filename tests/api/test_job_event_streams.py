"""Event streams of a running job, over real HTTP: bounded per caller and in total (a
429 in the native shape past a bound, and room again once a stream closes), and many
streams of one job cost one reader, not one database query per stream."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from seedbed.api.app import create_app
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour, StubLLMServer

SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
]


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """The app behind a real HTTP server in this process (so the test can watch its
    database), until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def slow_job_server(database, database_url, tmp_path) -> Iterator[tuple[str, str, object]]:
    """A server running a job that a slow provider keeps busy for minutes; its URL, the
    job's id and the app."""
    with StubLLMServer(StubBehaviour(seed=1, latency_ms=1_000)) as stub:
        settings = Settings(
            database_url=database_url,
            home=tmp_path,
            providers={
                "slow": {
                    "type": "openai",
                    "base_url": stub.base_url,
                    "api_key": "test",
                    "max_concurrency": 1,
                }
            },
        )
        app = create_app(settings, database, ProviderRegistry(settings, load_plugins=False))
        with serving(app) as base_url:
            created = httpx.post(
                f"{base_url}/seedbed/v1/jobs",
                json={"count": 5_000, "model": "slow/stub", "seeds": SEEDS},
                timeout=30,
            )
            assert created.status_code == 201, created.text
            job_id = created.json()["id"]
            try:
                yield base_url, job_id, app
            finally:
                httpx.post(f"{base_url}/seedbed/v1/jobs/{job_id}/cancel", timeout=30)


@dataclass
class Stream:
    """An event stream as a client holds it open (or the answer that refused it)."""

    response: httpx.Response
    lines: AsyncIterator[str] | None = None

    @property
    def status_code(self) -> int:
        return self.response.status_code

    def json(self) -> dict:
        return self.response.json()

    async def aclose(self) -> None:
        if self.lines is not None:
            await self.lines.aclose()
        await self.response.aclose()


async def _open(client: httpx.AsyncClient, job_id: str) -> Stream:
    """An event stream, opened and its first event read; or the refusal."""
    request = client.build_request("GET", f"/seedbed/v1/jobs/{job_id}/events")
    response = await client.send(request, stream=True)
    if response.status_code != 200:
        await response.aread()
        return Stream(response)
    stream = Stream(response, response.aiter_lines())
    while not (await anext(stream.lines)).startswith("data:"):
        pass
    return stream


def test_streams_are_bounded_per_caller_and_in_total(slow_job_server):
    base_url, job_id, app = slow_job_server
    app.state.job_events.max_streams_per_caller = 3
    app.state.job_events.max_streams = 5

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            mine = [await _open(client, job_id) for _ in range(3)]
            assert [stream.status_code for stream in mine] == [200, 200, 200]

            over_mine = await _open(client, job_id)
            assert over_mine.status_code == 429
            assert over_mine.json()["code"] == 429
            assert "Too many open event streams" in over_mine.json()["message"]

            await mine[0].aclose()
            for _ in range(100):  # the server notices the closed stream
                again = await _open(client, job_id)
                if again.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert again.status_code == 200
            for stream in [*mine[1:], again]:
                await stream.aclose()

    asyncio.run(scenario())


def test_the_total_bound_holds_across_callers(slow_job_server):
    base_url, job_id, app = slow_job_server
    app.state.job_events.max_streams_per_caller = 100
    app.state.job_events.max_streams = 4

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            streams = [await _open(client, job_id) for _ in range(4)]
            assert all(stream.status_code == 200 for stream in streams)
            over = await _open(client, job_id)
            assert over.status_code == 429 and over.json()["code"] == 429
            for stream in streams:
                await stream.aclose()

    asyncio.run(scenario())


def test_many_streams_of_one_job_share_one_reader(slow_job_server, database):
    base_url, job_id, app = slow_job_server
    streams_count, window_seconds = 100, 3.0
    app.state.job_events.max_streams_per_caller = streams_count
    job_reads = 0

    def count(_connection, _cursor, statement, *_args) -> None:
        nonlocal job_reads
        if statement.lstrip().upper().startswith("SELECT") and "FROM generation_jobs" in statement:
            job_reads += 1

    async def scenario() -> list[int]:
        nonlocal job_reads
        limits = httpx.Limits(max_connections=streams_count + 5)
        async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
            streams = await asyncio.gather(*[_open(client, job_id) for _ in range(streams_count)])
            assert all(stream.status_code == 200 for stream in streams)
            job_reads = 0
            await asyncio.sleep(window_seconds)
            reads = job_reads
            for stream in streams:
                await stream.aclose()
            return reads

    sa.event.listen(database.engine, "before_cursor_execute", count)
    try:
        reads = asyncio.run(scenario())
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count)

    # One reader polls twice a second; a query per stream would be 100 × 6 = 600 reads.
    assert reads < streams_count, reads
