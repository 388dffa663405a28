"""Every command's ``--help`` as a user reads it in a terminal (``seedbed ... --help`` in
a subprocess): whole help texts, usage lines as people write them, flags without value
placeholders, and a command list whose lines are not cut off."""

import os
import re
import subprocess

import pytest
import typer.main

from seedbed.cli.main import app
from tests.cli.conftest import SEEDBED


def _commands(group, path=()) -> list[tuple[tuple[str, ...], object]]:
    found = [(path, group)]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def _help(*path: str) -> str:
    finished = subprocess.run(
        [SEEDBED, *path, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""
    return finished.stdout


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(("seedbed", *path)) for path, _ in COMMANDS]
)
def test_help_is_whole(path, command):
    shown = _help(*path)

    usage = shown.splitlines()[0]
    assert usage.startswith(" ".join(("Usage: seedbed", *path)))
    assert "{" not in usage and "}" not in usage
    assert "<bool>" not in shown
    # Every help text appears whole: nothing taken for markup and dropped.
    assert _words(command.help.split("\f")[0]) in _words(shown)
    for parameter in command.params:
        if getattr(parameter, "help", None):
            assert _words(parameter.help) in _words(shown), parameter.name
    # Sub-commands are listed with their first sentence, not cut off with "...".
    listing = shown.split("Commands:")[-1] if "Commands:" in shown else ""
    assert not re.search(r"\.\.\.$", listing, re.MULTILINE)


@pytest.mark.parametrize(
    "flag",
    ["--quiet", "--json"],
)
def test_every_command_that_does_something_speaks_to_scripts(flag):
    """``--json`` (and ``-q`` where a command prints notes) on every command but the
    long-running servers."""
    missing = [
        " ".join(path)
        for path, command in COMMANDS
        if not hasattr(command, "commands")
        and path not in (("serve",), ("worker",))
        and flag not in {name for parameter in command.params for name in parameter.opts}
        and not (flag == "--quiet" and _prints_only_a_result(path))
    ]
    assert missing == []


def _prints_only_a_result(path: tuple[str, ...]) -> bool:
    # Listings and reports print their result and nothing else: nothing to quieten.
    return path[-1] in ("list", "show", "compare", "report", "cancel", "doctor")
