"""What routes receive: the caller (workspace and name) and a unit of work."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Connection

from seedbed.api.auth import caller_for_credential
from seedbed.domain.keys import secret_from_header
from seedbed.services.context import Caller
from seedbed.storage.database import Database

WORKSPACE_HEADER = "comet-workspace"


def _database(request: Request) -> Database:
    return request.app.state.database


def current_caller(request: Request) -> Caller:
    """Opik's and seedbed's own caller: the key in ``Authorization`` (raw, as Opik sends
    it, or ``Bearer``), in the workspace ``Comet-Workspace`` names."""
    return caller_for_credential(
        request.app.state.settings,
        _database(request),
        secret_from_header(request.headers.get("authorization")),
        workspace=request.headers.get(WORKSPACE_HEADER, "").strip() or None,
    )


def reading(request: Request) -> Iterator[Connection]:
    with _database(request).reading() as connection:
        yield connection


def writing(request: Request) -> Iterator[Connection]:
    with _database(request).writing() as connection:
        yield connection


CallerDep = Annotated[Caller, Depends(current_caller)]
# scope="function": the transaction commits before the response goes out, so a client
# never sees success for a write that then fails to commit.
Reading = Annotated[Connection, Depends(reading, scope="function")]
Writing = Annotated[Connection, Depends(writing, scope="function")]
