"""A generation job survives its server being killed: started again, the server resumes
the job, which ends with exactly the samples asked for, none lost or stored twice, and
the calls answered before the kill are replayed from the cache, not paid again."""

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import sqlalchemy as sa

from seedbed.generation.dedup import NearDuplicateFilter, sample_text
from seedbed.storage.tables import llm_responses
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import wait_for_job, wait_until_alive

SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
    {
        "question": "Where is my order?",
        "answer": "The tracking link is in your confirmation email.",
    },
]
COUNT = 240
CONCURRENCY = 2


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def start_server(database_url: str, workdir, stub: StubLLMServer) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "SEEDBED_HOME": str(workdir / "home"),
        # A slow provider (two calls at a time), so the kill lands mid-job.
        "SEEDBED_PROVIDERS": json.dumps(
            {
                "slow": {
                    "type": "openai",
                    "base_url": stub.base_url,
                    "api_key": "test",
                    "max_concurrency": CONCURRENCY,
                }
            }
        ),
    }
    log = (workdir / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seedbed",
            "serve",
            "--port",
            str(port),
            "--database-url",
            database_url,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_alive(base_url, process, workdir / f"server-{port}.log")
    return process, base_url


def test_a_killed_server_resumes_the_job_and_delivers_exactly_what_was_asked(
    database, database_url, tmp_path
):
    with StubLLMServer(StubBehaviour(seed=5, latency_ms=250, duplicate_rate=0.1)) as stub:
        process, base_url = start_server(database_url, tmp_path, stub)
        try:
            created = httpx.post(
                f"{base_url}/seedbed/v1/jobs",
                json={
                    "count": COUNT,
                    "model": "slow/stub",
                    "seeds": SEEDS,
                    "target_dataset_name": "grown",
                },
                timeout=10,
            )
            assert created.status_code == 201, created.text
            job_id = created.json()["id"]
            before_kill = wait_for_job(base_url, job_id, lambda current: current["accepted"] >= 40)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert before_kill["accepted"] < COUNT and before_kill["status"] == "running"
        # The calls the stub was still answering at the kill count as paid before it.
        wait_until(lambda: stub.stats["in_flight"] == 0)
        paid_before_restart = stub.stats["requests"]
        # What the killed server had received and recorded in its response cache; the
        # other calls it paid for were in flight at the kill, however many a loaded
        # machine had open at that moment.
        with database.reading() as connection:
            cached_at_kill = connection.execute(
                sa.select(sa.func.count()).select_from(llm_responses)
            ).scalar_one()
        in_flight_at_kill = paid_before_restart - cached_at_kill

        process, base_url = start_server(database_url, tmp_path, stub)
        try:
            finished = wait_for_job(
                base_url, job_id, lambda current: current["status"] not in ("queued", "running")
            )
            items = httpx.get(
                f"{base_url}/seedbed/v1/jobs/{job_id}/items", params={"limit": 1000}, timeout=10
            ).json()["content"]
            dataset = httpx.get(
                f"{base_url}/v1/private/datasets", params={"name": "grown"}, timeout=10
            ).json()["content"][0]
        finally:
            process.terminate()
            process.wait()

    assert finished["status"] == "completed", finished
    assert finished["accepted"] == COUNT and len(items) == COUNT
    assert dataset["dataset_items_count"] == COUNT and finished["written_version"] == "v1"
    seen = NearDuplicateFilter()
    for known in SEEDS:
        seen.add(sample_text(known))
    assert all(seen.add_if_new(sample_text(item["data"])) is None for item in items)
    # The samples stored before the kill are still there, in the order they came.
    assert [item["sequence"] for item in items] == sorted(item["sequence"] for item in items)
    # The restarted chunks replayed the calls answered before the kill from the cache...
    assert finished["cached_calls"] > 0
    assert stub.stats["requests"] > paid_before_restart
    # ...so no request was paid twice, except those in flight at the moment of the kill.
    bodies = collections.Counter(json.dumps(call, sort_keys=True) for call in stub.stats["calls"])
    paid_twice = sum(count - 1 for count in bodies.values())
    assert 0 <= in_flight_at_kill and paid_twice <= in_flight_at_kill
