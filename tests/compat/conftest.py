"""Fixtures for driving the real, unmodified Opik client against a running seedbed.

The client is configured only the way a user would configure it: environment
variables. Any ``OPIK_*`` variable of the person running the tests is removed and
``OPIK_CONFIG_PATH`` points at an empty file, so neither their shell nor their
``~/.opik.config`` can change what is tested.
"""

import importlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import opik
import pytest


@pytest.fixture
def opik_env(monkeypatch, tmp_path) -> Callable[..., None]:
    """Call with the server's base URL (and optionally workspace and key) to point the
    Opik client at it."""
    for name in list(os.environ):
        if name.startswith("OPIK_"):
            monkeypatch.delenv(name)
    config_file = tmp_path / "opik.config"
    config_file.write_text("")
    monkeypatch.setenv("OPIK_CONFIG_PATH", str(config_file))
    monkeypatch.setenv("OPIK_TRACK_DISABLE", "true")
    # The client reports usage and errors to Comet's services; a test run must not.
    monkeypatch.setenv("OPIK_ANALYTICS_ENABLE", "false")
    monkeypatch.setenv("OPIK_SENTRY_ENABLE", "false")

    def configure(base_url: str, workspace: str = "default", api_key: str | None = None) -> None:
        monkeypatch.setenv("OPIK_URL_OVERRIDE", f"{base_url}/api")
        monkeypatch.setenv("OPIK_WORKSPACE", workspace)
        if api_key is not None:
            monkeypatch.setenv("OPIK_API_KEY", api_key)

    return configure


@pytest.fixture
def make_opik_client(opik_env) -> Iterator[Callable[[], opik.Opik]]:
    """Makes ``opik.Opik()`` clients from the environment as it stands; ends them afterwards."""
    clients: list[opik.Opik] = []

    def make() -> opik.Opik:
        clients.append(opik.Opik())
        return clients[-1]

    yield make
    for client in clients:
        client.end(flush=False)


@pytest.fixture
def opik_client(server, opik_env, make_opik_client) -> opik.Opik:
    """A client for the local-mode server under test, in the ``default`` workspace."""
    opik_env(server)
    return make_opik_client()


@pytest.fixture
def create_key(database, database_url) -> Callable[..., str]:
    """Runs ``seedbed keys create`` as a user would and returns the secret it prints."""

    def create(name: str, *workspaces: str) -> str:
        options = [part for workspace in workspaces for part in ("--workspace", workspace)]
        command = [sys.executable, "-m", "seedbed", "keys", "create", name, *options]
        finished = subprocess.run(
            [*command, "--database-url", database_url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert finished.returncode == 0, finished.stderr
        return finished.stdout.strip().splitlines()[-1]

    return create


@pytest.fixture
def offline_llm_judge_library(monkeypatch) -> None:
    """The client's evaluation code imports litellm. Keep litellm offline (its bundled
    price table instead of a download) and import it once up front: imported lazily from
    two of the client's threads at once, it fails half-way."""
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    importlib.import_module("litellm")
