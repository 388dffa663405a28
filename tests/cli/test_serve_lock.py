"""A second ``seedbed serve`` on the SQLite file a running server uses refuses to start,
with one clear line; once the first server is gone (even killed), a new one starts."""

import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.conftest import _free_port, running_server, wait_until_alive

SERVE = [sys.executable, "-m", "seedbed", "serve"]


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_second_server_on_the_same_sqlite_file_refuses_to_start(database, database_url, tmp_path):
    with running_server(database_url, tmp_path) as first:
        second = subprocess.run(
            [*SERVE, "--port", "1", "--database-url", database_url],
            env={**os.environ, "SEEDBED_HOME": str(tmp_path / "home")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert httpx.get(f"{first}/is-alive/ping", timeout=30).status_code == 200
    assert second.returncode == 1, second.stdout + second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert "another seedbed server" in lines[0] and "is already using" in lines[0]
    assert database_url.removeprefix("sqlite:///") in lines[0]
    assert "Traceback" not in second.stderr


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_killed_server_leaves_no_lock_behind(database, database_url, tmp_path):
    port = _free_port()
    log_path = tmp_path / "killed.log"
    with log_path.open("w") as log:
        killed = subprocess.Popen(
            [*SERVE, "--port", str(port), "--database-url", database_url],
            env={**os.environ, "SEEDBED_HOME": str(tmp_path / "home")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_until_alive(f"http://127.0.0.1:{port}", killed, log_path)
    killed.send_signal(signal.SIGKILL)
    killed.wait()

    with running_server(database_url, tmp_path) as again:
        assert httpx.get(f"{again}/is-alive/ping", timeout=30).status_code == 200
