"""Running the ``seedbed`` command in-process, against the database under test."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from seedbed.cli import common
from seedbed.cli.main import app


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """Help screens render as in a wide terminal, so each command's line is whole.
    Setting COLUMNS per call is not enough: rich fixes a console's width when the
    console is made if COLUMNS is set then, as pytest-xdist does (80)."""
    for console in (common.console, common.errors):
        monkeypatch.setattr(console.get(), "width", 250)


@dataclass
class Seedbed:
    """``seedbed ...`` with ``--database-url`` of the engine under test appended."""

    database_url: str

    def __call__(self, *args) -> Result:
        """Run a command that must succeed."""
        result = invoke(*args, "--database-url", self.database_url)
        assert result.exit_code == 0, result.output
        return result

    def fails(self, *args) -> Result:
        """Run a command that must fail the way a user should see it fail: a non-zero
        exit and a message, not a traceback."""
        result = invoke(*args, "--database-url", self.database_url)
        assert result.exit_code != 0, result.output
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        return result


@pytest.fixture
def run_seedbed() -> Callable[..., Result]:
    """``seedbed ...`` with nothing added, for commands that need no database."""
    return invoke


@pytest.fixture
def seedbed(database_url, database) -> Seedbed:
    return Seedbed(database_url)


@dataclass
class SeedbedProcess:
    """``seedbed ...`` as a user types it, in its own process, with ``--database-url`` of
    the engine under test appended and the home directory in the test's folder."""

    database_url: str
    home: str
    env: dict[str, str]

    def run(self, *args, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        finished = subprocess.run(
            [SEEDBED, *(str(arg) for arg in args), "--database-url", self.database_url],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "SEEDBED_HOME": self.home, **self.env},
        )
        if check:
            assert finished.returncode == 0, finished.stdout + finished.stderr
        return finished

    def json(self, *args) -> object:
        return json.loads(self.run(*args, "--json").stdout)


# The command as installed, as a user types it.
SEEDBED = str(Path(sys.executable).parent / "seedbed")


@pytest.fixture
def seedbed_process(database_url, database, tmp_path) -> SeedbedProcess:
    return SeedbedProcess(database_url, str(tmp_path / "home"), {})
