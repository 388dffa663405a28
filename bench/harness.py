"""What every benchmark here needs: a database per engine, a ``seedbed serve`` process
on it, and a median timer."""

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import sqlalchemy as sa

POSTGRES_URL = os.environ.get(
    "SEEDBED_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(url: str) -> Iterator[str]:
    """``seedbed serve`` on ``url`` until the block ends; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "seedbed", "serve", "--port", str(port), "--database-url", url],
        env={**os.environ, "SEEDBED_HOME": tempfile.mkdtemp()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/is-alive/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def engine_database(name: str) -> Iterator[str]:
    """A fresh, empty database URL on ``sqlite`` or ``postgresql``; removed afterwards."""
    if name == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        return
    schema = f"seedbed_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def median_ms(call: Callable[[], object], repeat: int = 15) -> float:
    call()  # warm up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000
