"""Who is calling, decided the same way on every surface.

In local mode (no keys required) every request is the local user's, in the workspace it
asks for (or the default one). Otherwise the request must carry a credential: a seedbed
API key, or one a surface exchanged for a key (Galileo's login token, which the surface
reads with ``read_token``); each surface says where it looks for the credential and what
to tell a client that sent none.
"""

from collections.abc import Callable

from sqlalchemy.engine import Connection

from seedbed.domain.errors import Unauthorized
from seedbed.services import keys
from seedbed.services.context import DEFAULT_WORKSPACE, Caller
from seedbed.settings import Settings
from seedbed.storage.database import Database

MISSING_KEY = "An API key is required: send it in the Authorization header"

# Reads a credential that is not a plain key (``None``: it is a plain key).
TokenReader = Callable[[Connection, str], Caller | None]


def caller_for_credential(
    settings: Settings,
    database: Database,
    credential: str | None,
    workspace: str | None = None,
    missing: str = MISSING_KEY,
    read_token: TokenReader | None = None,
) -> Caller:
    if not settings.requires_api_key:
        return Caller(workspace=workspace or DEFAULT_WORKSPACE)
    if credential is None:
        raise Unauthorized(missing)
    with database.reading() as connection:
        if read_token is not None and (caller := read_token(connection, credential)):
            return caller
        return keys.authenticate(connection, credential, workspace)
