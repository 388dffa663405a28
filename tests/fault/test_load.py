"""The server under load, over real HTTP: many clients at once all get their answers in
time, and a read stays fast while a generation job runs beside a writer that holds
SQLite's write lock for seconds at a time. The figures of the full load goal (50
clients for 60 s, both engines, with and without a job) come from bench/load.py; these
only fail when requests time out or a blocked event loop makes everyone wait."""

import asyncio
import json
import sqlite3
import threading
import time
import uuid

import httpx
import pytest

from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import running_server, wait_for_job

API = "/v1/private"
CLIENTS = 50
SECONDS = 8
# Far more than any answer needs; what exceeds it is a request stuck behind others.
TIMEOUT_SECONDS = 20
SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
]


def _dataset(base_url: str) -> str:
    created = httpx.post(f"{base_url}{API}/datasets", json={"name": "load"}, timeout=60)
    assert created.status_code == 201, created.text
    return created.headers["location"].rsplit("/", 1)[1]


def test_fifty_clients_at_once_all_get_their_answers(server):
    dataset_id = _dataset(server)
    failures: list[str] = []
    answered = 0

    async def client(number: int, http: httpx.AsyncClient, deadline: float) -> None:
        nonlocal answered
        turn = number
        while time.monotonic() < deadline:
            turn += 1
            if turn % 2:
                request = ("GET", f"{API}/datasets/{dataset_id}/items", None)
            else:
                item = {"id": str(uuid.uuid4()), "data": {"turn": turn, "client": number}}
                body = {"dataset_id": dataset_id, "items": [item]}
                request = ("PUT", f"{API}/datasets/items", body)
            try:
                response = await http.request(request[0], request[1], json=request[2])
            except httpx.HTTPError as error:
                failures.append(f"{request[0]} {request[1]}: {error!r}")
                continue
            if not response.is_success:
                failures.append(f"{request[0]} {request[1]}: {response.status_code}")
            answered += 1

    async def clients() -> None:
        limits = httpx.Limits(max_connections=CLIENTS)
        deadline = time.monotonic() + SECONDS
        async with httpx.AsyncClient(
            base_url=server, timeout=TIMEOUT_SECONDS, limits=limits
        ) as http:
            await asyncio.gather(*(client(number, http, deadline) for number in range(CLIENTS)))

    asyncio.run(clients())

    assert failures == []
    assert answered >= CLIENTS


def _hold_the_write_lock(path: str, stop: threading.Event, held_seconds: float) -> None:
    """Another writer on the file: it takes SQLite's write lock and keeps it for seconds."""
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        while not stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            stop.wait(held_seconds)
            connection.execute("COMMIT")
            stop.wait(0.2)
    finally:
        connection.close()


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_read_stays_fast_while_a_job_runs_beside_a_busy_writer(database, database_url, tmp_path):
    with StubLLMServer(StubBehaviour(seed=2, latency_ms=50)) as stub:
        providers = {"stub": {"type": "openai", "base_url": stub.base_url, "api_key": "test"}}
        with running_server(
            database_url, tmp_path, SEEDBED_PROVIDERS=json.dumps(providers)
        ) as base_url:
            _dataset(base_url)
            created = httpx.post(
                f"{base_url}/seedbed/v1/jobs",
                json={"count": 100_000, "model": "stub/any", "seeds": SEEDS},
                timeout=60,
            )
            assert created.status_code == 201, created.text
            job_id = created.json()["id"]
            wait_for_job(base_url, job_id, lambda current: current["accepted"] > 0)

            stop = threading.Event()
            writer = threading.Thread(
                target=_hold_the_write_lock,
                args=(database_url.removeprefix("sqlite:///"), stop, 5.0),
            )
            writer.start()
            latencies = []
            try:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    response = httpx.get(f"{base_url}{API}/datasets", timeout=60)
                    latencies.append(time.monotonic() - started)
                    assert response.status_code == 200, response.text
                    time.sleep(0.05)
            finally:
                stop.set()
                writer.join()
                httpx.post(f"{base_url}/seedbed/v1/jobs/{job_id}/cancel", timeout=60)

    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    # A read needs no write lock (WAL); one held behind the job's writes on the event
    # loop would wait out the writer's 5 s.
    assert p99 < 2.0, f"p99 {p99:.2f} s over {len(latencies)} reads"
