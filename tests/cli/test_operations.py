"""Starting and checking an installation as a new user does, each command in its own
process: ``seedbed serve`` says where the UI, the API docs and the Opik base URL are and
logs one line per request (as JSON with --log-json); ``seedbed doctor`` finds what is
wrong and says what to do."""

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from seedbed.testing import StubBehaviour, StubLLMServer
from tests.cli.conftest import SEEDBED
from tests.conftest import _free_port, wait_until_alive


@contextmanager
def serving(database_url: str, tmp_path, *options: str) -> Iterator[tuple[str, object]]:
    port = _free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [SEEDBED, "serve", "--port", str(port), "--database-url", database_url, *options],
            env={**os.environ, "SEEDBED_HOME": str(tmp_path / "home")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_alive(base_url, process, log_path)
            yield base_url, log_path
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_serve_says_where_everything_is_and_logs_each_request(database, database_url, tmp_path):
    with serving(database_url, tmp_path) as (base_url, log_path):
        httpx.get(
            f"{base_url}/api/v1/private/datasets",
            headers={"Comet-Workspace": "team-a", "Authorization": "sb_not-a-key"},
            timeout=30,
        )
    log = log_path.read_text()

    assert f"web UI:       {base_url}/\n" in log
    assert f"API docs:     {base_url}/docs\n" in log
    assert f"OPIK_URL_OVERRIDE={base_url}/api\n" in log
    [line] = [line for line in log.splitlines() if "/api/v1/private/datasets" in line]
    assert "seedbed.requests" in line and " 200 " in line and "workspace=team-a" in line
    assert "sb_not-a-key" not in log


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_serve_logs_json_lines_on_request(database, database_url, tmp_path):
    with serving(database_url, tmp_path, "--log-json", "--log-level", "info") as (base_url, log):
        httpx.get(f"{base_url}/api/v1/private/datasets", timeout=30)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]

    requests = [record for record in records if record.get("logger") == "seedbed.requests"]
    [request] = [record for record in requests if record["path"] == "/api/v1/private/datasets"]
    assert request["method"] == "GET" and request["level"] == "info"
    assert request["status"] == 200 and request["workspace"] == "-"
    assert isinstance(request["ms"], float)


def test_a_mistyped_log_level_is_refused(run_seedbed):
    result = run_seedbed("serve", "--log-level", "loud")

    assert result.exit_code == 2
    assert "--log-level must be one of debug, info, warning, error, not 'loud'" in result.output


def _doctor(seedbed_process, *options) -> tuple[int, dict[str, dict]]:
    finished = seedbed_process.run("doctor", "--json", *options, check=False)
    return finished.returncode, {check["name"]: check for check in json.loads(finished.stdout)}


def test_doctor_on_a_new_database_says_to_migrate_then_finds_it_ready(tmp_path):
    from tests.cli.conftest import SeedbedProcess

    fresh = SeedbedProcess(f"sqlite:///{tmp_path / 'new.db'}", str(tmp_path / "home"), {})
    code, checks = _doctor(fresh)
    assert code == 1
    assert checks["database"]["status"] == "problem"
    assert "schema at nothing yet" in checks["database"]["detail"]
    assert "seedbed serve" in checks["database"]["fix"]

    fresh.run("datasets", "list")
    code, checks = _doctor(fresh)
    assert checks["database"]["status"] == "ok"
    assert checks["embedded model"]["status"] == "ok"
    assert checks["job runner"]["status"] == "ok"
    assert code == 0


def test_doctor_tries_each_configured_provider_with_a_one_token_call(seedbed_process):
    with StubLLMServer(StubBehaviour(seed=1)) as stub:
        seedbed_process.env.update(OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test")
        code, checks = _doctor(seedbed_process)
        calls = stub.stats["calls"]
    assert code == 0
    assert checks["provider openai/gpt-4o-mini"]["status"] == "ok"
    assert [call.get("max_tokens") or call.get("max_completion_tokens") for call in calls] == [1]

    seedbed_process.env.update(OPENAI_BASE_URL=f"http://127.0.0.1:{_free_port()}/v1")
    code, checks = _doctor(seedbed_process)
    assert code == 1
    assert checks["provider openai/gpt-4o-mini"]["status"] == "problem"
    assert "OPENAI_API_KEY" in checks["provider openai/gpt-4o-mini"]["fix"]


def test_doctor_says_workers_need_postgresql(seedbed_process, engine_name):
    seedbed_process.env.update(SEEDBED_JOB_RUNNER="workers")

    code, checks = _doctor(seedbed_process)

    runner = checks["job runner"]
    if engine_name == "sqlite":
        assert code == 1 and runner["status"] == "problem"
        assert "needs PostgreSQL" in runner["detail"]
    else:
        assert runner["status"] in ("ok", "problem")
        assert "seedbed serve" in runner["fix"] or "seedbed worker" in runner["detail"]
