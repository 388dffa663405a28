"""Generation jobs run by ``seedbed worker`` processes through procrastinate, for a
``seedbed serve`` that only queues them: shared by two workers, waiting while none
runs, finished by the survivor when one is SIGKILLed, stopped by a cancel.

PostgreSQL only: workers refuse SQLite, which is tested here without a database."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from seedbed.api.app import create_app
from seedbed.cli.main import app as cli
from seedbed.domain.errors import SeedbedError
from seedbed.generation.spec import GenerationSpec
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import jobs
from seedbed.services.context import Caller
from seedbed.settings import Settings
from seedbed.storage.database import Database
from seedbed.storage.tables import generation_job_chunks
from seedbed.testing import StubBehaviour, StubLLMServer
from seedbed.workers import libpq_conninfo
from tests.conftest import job_state, running_server, wait_for_job

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
def engine_name() -> str:
    """Workers take their jobs from PostgreSQL: there is no SQLite variant of these tests."""
    return "postgresql"


@pytest.fixture(scope="module")
def llm() -> Iterator[StubLLMServer]:
    with StubLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def env(llm) -> dict[str, str]:
    """What the server and the workers are started with."""
    return {
        "SEEDBED_JOB_RUNNER": "workers",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "test",
        "SEEDBED_DEFAULT_MODEL": "openai/gpt-4o-mini",
    }


@pytest.fixture(scope="module")
def api(migrated_urls, tmp_path_factory, env) -> Iterator[str]:
    """One ``seedbed serve`` for the module; with workers as job runner, it only queues."""
    workdir = tmp_path_factory.mktemp("server")
    with running_server(migrated_urls["postgresql"], workdir, **env) as base_url:
        yield base_url


@pytest.fixture
def stub(llm, database) -> Iterator[StubLLMServer]:
    """The stub LLM, answering after 50 ms, its counters at zero. Procrastinate's queue
    is emptied after the test, as the database fixture empties seedbed's tables."""
    llm.set_behaviour(StubBehaviour(seed=3, latency_ms=50))
    llm.reset_stats()
    yield llm
    with database.engine.begin() as connection:
        installed = connection.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
        if installed is not None:
            connection.exec_driver_sql("TRUNCATE procrastinate_jobs, procrastinate_workers CASCADE")


class Worker:
    def __init__(
        self, database_url: str, workdir: Path, env: dict[str, str], concurrency: int
    ) -> None:
        self.log = workdir / f"worker-{time.monotonic_ns()}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "seedbed", "worker", "--concurrency", str(concurrency)]
                + ["--database-url", database_url],
                env={**os.environ, "SEEDBED_HOME": str(workdir / "home"), **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.name = f"{socket.gethostname()}:{self.process.pid}"

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + 120
        while "Starting worker" not in self.log.read_text():
            assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def wait_until_stopped(self) -> None:
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def running_workers(
    database_url: str, workdir: Path, env: dict[str, str], count: int, concurrency: int = 2
) -> Iterator[list[Worker]]:
    workers = [Worker(database_url, workdir, env, concurrency) for _ in range(count)]
    try:
        for worker in workers:
            worker.wait_until_ready()
        yield workers
    finally:
        for worker in workers:
            worker.process.terminate()
        for worker in workers:
            worker.wait_until_stopped()


def start_job(base_url: str, count: int) -> str:
    response = httpx.post(f"{base_url}{JOBS}", json={"count": count, "seeds": SEEDS}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def finished(current: dict) -> bool:
    return current["status"] in ("completed", "failed", "cancelled")


def items_of(base_url: str, job_id: str) -> list[dict]:
    return httpx.get(
        f"{base_url}{JOBS}/{job_id}/items", params={"limit": 10_000}, timeout=10
    ).json()["content"]


def distinct(items: list[dict]) -> int:
    return len({json.dumps(item["data"], sort_keys=True) for item in items})


def chunks(database: Database, job_id: str) -> list:
    with database.engine.connect() as connection:
        return connection.execute(
            sa.select(generation_job_chunks)
            .where(generation_job_chunks.c.job_id == job_id)
            .order_by(generation_job_chunks.c.chunk_index)
        ).all()


def running_on(database: Database, job_id: str, worker: Worker) -> list[int]:
    return [
        chunk.chunk_index
        for chunk in chunks(database, job_id)
        if chunk.status == "running" and chunk.owner == worker.name
    ]


def queued_tasks(database: Database, job_id: str) -> list[str]:
    with database.engine.connect() as connection:
        return list(
            connection.execute(
                sa.text("SELECT status FROM procrastinate_jobs WHERE args->>'job_id' = :job_id"),
                {"job_id": job_id},
            ).scalars()
        )


def test_two_workers_share_a_job_and_deliver_exactly_the_count(
    database, database_url, tmp_path, env, api, stub
):
    with running_workers(database_url, tmp_path, env, count=2) as workers:
        job_id = start_job(api, 600)
        done = wait_for_job(api, job_id, finished)
        items = items_of(api, job_id)

    assert done["status"] == "completed", (done["detail"], done)
    assert done["accepted"] == 600 and done["chunks_done"] == done["chunks_total"] == 6
    assert len(items) == 600 and distinct(items) == 600
    assert {chunk.owner for chunk in chunks(database, job_id)} == {
        worker.name for worker in workers
    }


def test_the_server_alone_only_queues_and_a_worker_runs_even_what_it_never_queued(
    database, database_url, tmp_path, env, api, stub
):
    job_id = start_job(api, 150)
    time.sleep(2)

    waiting = job_state(api, job_id)
    assert waiting["status"] == "queued" and waiting["accepted"] == 0
    assert stub.stats["requests"] == 0
    assert queued_tasks(database, job_id) == ["todo", "todo"]  # one per chunk
    # A job committed by a server that died before it could queue the chunks.
    settings = Settings(
        database_url=database_url, openai_api_key="test", openai_base_url=stub.base_url
    )
    with database.writing() as connection:
        registry = ProviderRegistry(settings, load_plugins=False)
        spec = GenerationSpec(count=50, model="openai/gpt-4o-mini")
        orphan_id = jobs.create_job(connection, Caller("default"), registry, spec, seeds=SEEDS).id
    assert queued_tasks(database, orphan_id) == []

    with running_workers(database_url, tmp_path, env, count=1):
        done = wait_for_job(api, job_id, finished)
        orphan = wait_for_job(api, orphan_id, finished)
    assert done["status"] == "completed" and done["accepted"] == 150
    assert orphan["status"] == "completed" and orphan["accepted"] == 50


def test_a_killed_workers_chunks_are_finished_by_the_other(
    database, database_url, tmp_path, env, api, stub
):
    stub.set_behaviour(StubBehaviour(seed=5, latency_ms=300))
    with running_workers(database_url, tmp_path, env, count=2) as (victim, survivor):
        job_id = start_job(api, 400)
        wait_for_job(
            api,
            job_id,
            lambda current: current["accepted"] >= 40 and running_on(database, job_id, victim),
        )
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        interrupted = running_on(database, job_id, victim)

        done = wait_for_job(api, job_id, finished)
        items = items_of(api, job_id)

    assert interrupted, "the kill should land while the victim runs a chunk"
    assert done["status"] == "completed", done
    assert done["accepted"] == 400 and len(items) == 400 and distinct(items) == 400
    after = {chunk.chunk_index: chunk for chunk in chunks(database, job_id)}
    for index in interrupted:
        assert (
            after[index].status == "done"
            and after[index].owner == survivor.name
            and after[index].attempts >= 2
        )


def test_a_cancelled_job_stops_and_its_remaining_chunks_never_run(
    database, database_url, tmp_path, env, api, stub
):
    stub.set_behaviour(StubBehaviour(seed=7, latency_ms=200))
    with running_workers(database_url, tmp_path, env, count=2):
        job_id = start_job(api, 1000)
        wait_for_job(api, job_id, lambda current: current["accepted"] >= 20)

        response = httpx.post(f"{api}{JOBS}/{job_id}/cancel", timeout=10)
        assert response.status_code == 200 and response.json()["cancel_requested"] is True
        done = wait_for_job(api, job_id, finished)
        time.sleep(0.5)  # calls in flight at the cancel come back
        kept, paid = len(items_of(api, job_id)), stub.stats["requests"]
        time.sleep(1.5)
        assert len(items_of(api, job_id)) == kept and stub.stats["requests"] == paid

    assert done["status"] == "cancelled" and 20 <= kept == done["accepted"] < 1000
    settled = chunks(database, job_id)
    assert {chunk.status for chunk in settled} <= {"done", "cancelled"}
    # Chunks that had not started when the job was cancelled were taken, and never run.
    assert any(chunk.status == "cancelled" and chunk.attempts == 0 for chunk in settled)
    assert set(queued_tasks(database, job_id)) <= {"succeeded"}


def test_workers_refuse_sqlite_with_a_clear_error(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'seedbed.db'}"
    with pytest.raises(SeedbedError, match="workers need PostgreSQL"):
        create_app(Settings(database_url=sqlite, home=tmp_path, job_runner="workers"))

    result = CliRunner().invoke(cli, ["worker", "--database-url", sqlite])
    assert result.exit_code == 1 and "workers need PostgreSQL" in result.output

    served = CliRunner().invoke(
        cli,
        ["serve", "--database-url", sqlite, "--port", "1"],
        env={"SEEDBED_JOB_RUNNER": "workers"},
    )
    assert served.exit_code == 1 and "workers need PostgreSQL" in served.output
    assert "Traceback" not in served.output


def test_the_queue_connects_where_seedbed_does_in_the_same_schema():
    conninfo = libpq_conninfo(
        "postgresql+psycopg://seed:s%40cret@db.internal:6543/prod?options=-csearch_path%3Dtenant_7&sslmode=require"
    )
    assert conninfo_to_dict(conninfo) == {
        "host": "db.internal",
        "port": "6543",
        "user": "seed",
        "password": "s@cret",
        "dbname": "prod",
        "options": "-csearch_path=tenant_7",
        "sslmode": "require",
    }
