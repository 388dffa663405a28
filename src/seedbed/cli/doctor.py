"""``seedbed doctor``."""

from typing import Annotated

import typer

from seedbed.cli.common import DatabaseUrlOption, JsonOption, Output, settings_with

_MARKS = {"ok": "ok     ", "problem": "PROBLEM", "skipped": "skipped"}


def doctor(
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="Also try this provider/model with a one-token call (repeatable).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Check the installation and say what to fix.

    The database (reachable, migrated), the embedded model (installed, verified), each
    configured provider (a one-token call) and the job runner. Says what to do about
    each problem; the exit code is 1 if there is one."""
    from seedbed.services.doctor import PROBLEM, run_checks

    out = Output(as_json=as_json)
    checks = run_checks(settings_with(database_url=database_url), tuple(model or ()))
    out.result([check.as_dict() for check in checks])
    if not as_json:
        for check in checks:
            print(f"{_MARKS.get(check.status, check.status)}  {check.name}: {check.detail}")
            if check.fix:
                print(f"         fix: {check.fix}")
    if any(check.status == PROBLEM for check in checks):
        raise typer.Exit(code=1)
