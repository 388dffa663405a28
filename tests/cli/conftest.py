"""Running the ``seedbed`` command in-process, against the database under test."""

from collections.abc import Callable
from dataclasses import dataclass

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
        monkeypatch.setattr(console, "width", 250)


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
