"""Shared fixtures: every storage-backed test runs on SQLite and on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (database ``test``), or
``SEEDBED_TEST_POSTGRES_URL``. Each test process works in a schema of its own, so
parallel runs do not meet. If PostgreSQL cannot be reached the tests fail: they never
skip.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.settings import Settings
from seedbed.storage import migrate
from seedbed.storage.database import Database
from seedbed.storage.tables import metadata

POSTGRES_URL = os.environ.get(
    "SEEDBED_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ENGINES = ["sqlite", "postgresql"]
# The embedded model decodes up to ten times slower on a busy 2-core machine than on an
# idle one: its tests get a longer limit than the suite's 300 s, still short of a hang.
SLOW_TEST_TIMEOUT_SECONDS = 900


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT_SECONDS))


def _postgres_schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    schema = f"seedbed_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required for the test suite and is not reachable at {POSTGRES_URL}: {error}"
        )
    yield schema
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory, postgres_schema) -> dict[str, str]:
    urls = {
        "sqlite": f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'seedbed.db'}",
        "postgresql": _postgres_schema_url(postgres_schema),
    }
    for url in urls.values():
        database = Database(url)
        migrate.upgrade(database)
        database.dispose()
    return urls


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    return request.param


@pytest.fixture
def database_url(migrated_urls, engine_name) -> str:
    return migrated_urls[engine_name]


@pytest.fixture
def database(database_url) -> Iterator[Database]:
    """A migrated, empty database on the engine under test; emptied again afterwards."""
    database = Database(database_url)
    yield database
    with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    database.dispose()


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, home=tmp_path)


@pytest.fixture
def client(settings, database) -> Iterator[TestClient]:
    """The app in-process, in local mode (no API key)."""
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(database_url: str, workdir: Path, **env: str) -> Iterator[str]:
    """Run ``seedbed serve`` as a separate process until the block ends; yields its URL."""
    port = _free_port()
    log_path = workdir / f"server-{port}.log"
    with log_path.open("w") as log:
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
            env={**os.environ, "SEEDBED_HOME": str(workdir / "home"), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_alive(base_url, process, log_path)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def job_state(base_url: str, job_id: str) -> dict:
    """A generation job as ``GET /seedbed/v1/jobs/{id}`` reports it."""
    return httpx.get(f"{base_url}/seedbed/v1/jobs/{job_id}", timeout=10).json()


def wait_for_job(base_url: str, job_id: str, condition, timeout: float = 240) -> dict:
    """The job once ``condition`` holds for it; generous, for a loaded machine."""
    deadline = time.monotonic() + timeout
    while True:
        current = job_state(base_url, job_id)
        if condition(current):
            return current
        assert time.monotonic() < deadline, current
        time.sleep(0.1)


def wait_until_alive(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    # Generous: on a loaded 2-core machine importing the app alone can take many seconds.
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base_url}/is-alive/ping", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("seedbed serve did not start:\n" + log_path.read_text())
        time.sleep(0.1)


class ServerPool:
    """``seedbed serve`` processes kept running from one test of a module to the next:
    starting one takes seconds, and each test still begins on an empty database (the
    ``database`` fixture empties it afterwards). One server per database at a time, as
    ``seedbed serve`` allows on SQLite. The pool ends with its module: a server left
    running would share the database with the next module's tests, and run the jobs
    they queue for their own workers."""

    def __init__(self, tmp_path_factory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._running: dict[str, tuple[tuple, str, contextlib.ExitStack]] = {}

    def server_for(self, database_url: str, **env: str) -> str:
        settings = tuple(sorted(env.items()))
        running = self._running.get(database_url)
        if running is not None and running[0] == settings:
            return running[1]
        self.stop(database_url)
        stack = contextlib.ExitStack()
        workdir = self._tmp_path_factory.mktemp("server")
        base_url = stack.enter_context(running_server(database_url, workdir, **env))
        self._running[database_url] = (settings, base_url, stack)
        return base_url

    def stop(self, database_url: str | None = None) -> None:
        for url in [database_url] if database_url else list(self._running):
            if url in self._running:
                self._running.pop(url)[2].close()


@pytest.fixture(scope="module")
def server_pool(tmp_path_factory) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path_factory)
    yield pool
    pool.stop()


_POOLED = {"server", "keyed_server"}


@pytest.fixture(autouse=True)
def _pooled_servers_make_way(request, server_pool: ServerPool) -> None:
    """A test that starts its own server (other settings) gets the database to itself."""
    if not _POOLED & set(request.fixturenames):
        server_pool.stop()


@pytest.fixture
def server(database, database_url, server_pool: ServerPool) -> str:
    """A real ``seedbed serve`` process in local mode on the engine under test (kept
    running for the module's next test; the database starts empty each time)."""
    return server_pool.server_for(database_url)


@pytest.fixture
def keyed_server(database, database_url, server_pool: ServerPool) -> str:
    """A real ``seedbed serve`` that requires API keys (``SEEDBED_AUTH=required``)."""
    return server_pool.server_for(database_url, SEEDBED_AUTH="required")
