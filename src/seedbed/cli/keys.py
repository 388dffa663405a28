"""``seedbed keys``: API keys for servers that listen beyond localhost."""

from typing import Annotated

import typer

from seedbed.cli.common import DatabaseUrlOption, console, fail, open_database, print_table
from seedbed.domain.errors import SeedbedError
from seedbed.services import keys

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[
        str,
        typer.Argument(
            help="A name to recognise the key by (recorded as the author of its writes)."
        ),
    ],
    workspace: Annotated[
        list[str] | None,
        typer.Option("--workspace", "-w", help="Workspace the key opens; repeat for several."),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a key. The secret is printed once and only its hash is stored."""
    database = open_database(database_url)
    try:
        with database.writing() as connection:
            created = keys.create_key(connection, name, workspace or ["default"])
    except SeedbedError as error:
        fail(error)
    console.print(f"id:         {created.key.id}")
    console.print(f"workspaces: {', '.join(created.key.workspaces)}")
    console.print("secret (shown only now):")
    print(created.secret)


@app.command("list")
def list_keys(database_url: DatabaseUrlOption = None) -> None:
    """List keys (never their secrets)."""
    database = open_database(database_url)
    with database.reading() as connection:
        found = keys.list_keys(connection)
    print_table(
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
    key_id: Annotated[str, typer.Argument(help="Id of the key, as `seedbed keys list` shows it.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    database = open_database(database_url)
    try:
        with database.writing() as connection:
            keys.revoke_key(connection, key_id)
    except SeedbedError as error:
        fail(error)
    console.print(f"revoked {key_id}")
