"""``seedbed keys``: API keys for servers that listen beyond localhost."""

from typing import Annotated

import typer

from seedbed.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    Output,
    QuietOption,
    command_group,
    fail,
    open_database,
    print_records,
)

app = command_group("Create, list and revoke API keys.")


@app.command("create")
def create(
    name: Annotated[
        str,
        typer.Argument(
            help="A name to recognise the key by (recorded as the author of its writes).",
            metavar="NAME",
            show_default=False,
        ),
    ],
    workspace: Annotated[
        list[str] | None,
        typer.Option("--workspace", "-w", help="Workspace the key opens; repeat for several."),
    ] = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a key. The secret is printed once and only its hash is stored."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.services import keys

    out = Output(quiet, as_json)
    database = open_database(database_url)
    try:
        with database.writing() as connection:
            created = keys.create_key(connection, name, workspace or ["default"])
    except SeedbedError as error:
        fail(error)
    lines = [
        f"id:         {created.key.id}",
        f"workspaces: {', '.join(created.key.workspaces)}",
        "secret (shown only now):",
    ]
    out.result(
        {"id": created.key.id, "workspaces": created.key.workspaces, "secret": created.secret},
        created.secret if out.quiet else "\n".join([*lines, created.secret]),
    )


@app.command("list")
def list_keys(as_json: JsonOption = False, database_url: DatabaseUrlOption = None) -> None:
    """List keys (never their secrets)."""
    from seedbed.services import keys

    database = open_database(database_url)
    with database.reading() as connection:
        found = keys.list_keys(connection)
    print_records(
        Output(as_json=as_json),
        ["id", "name", "workspaces", "starts with", "created", "revoked"],
        [
            [
                key.id,
                key.name,
                ", ".join(key.workspaces),
                key.hint + "…",
                key.created_at.strftime("%Y-%m-%d %H:%M"),
                key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "",
            ]
            for key in found
        ],
    )


@app.command("revoke")
def revoke(
    key_id: Annotated[
        str,
        typer.Argument(
            help="Id of the key, as `seedbed keys list` shows it.",
            metavar="KEY_ID",
            show_default=False,
        ),
    ],
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.services import keys

    out = Output(quiet, as_json)
    database = open_database(database_url)
    try:
        with database.writing() as connection:
            keys.revoke_key(connection, key_id)
    except SeedbedError as error:
        fail(error)
    out.result({"id": key_id, "revoked": True})
    out.note(f"revoked {key_id}")
