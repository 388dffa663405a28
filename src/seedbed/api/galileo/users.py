"""Galileo's users and login tokens as seedbed's callers: Galileo names a user by UUID and
e-mail, seedbed by name within a workspace; a login token speaks for the key it was
issued for, for as long as that key is valid."""

import hashlib
import re
import uuid
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain.errors import Unauthorized
from seedbed.services import keys
from seedbed.services.context import Caller


@dataclass(frozen=True)
class GalileoUser:
    id: str  # a UUID version 4, which the client insists on
    email: str
    name: str


def galileo_user(workspace: str, name: str) -> GalileoUser:
    """Galileo names users by UUID and e-mail; seedbed by name within a workspace. The id
    is derived from both, so the same user always has the same id."""
    digest = hashlib.sha256(f"{workspace}\x00{name}".encode()).digest()
    local_part = re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-.") or "user"
    return GalileoUser(
        str(uuid.UUID(bytes=digest[:16], version=4)), f"{local_part}@seedbed.local", name
    )


@dataclass(frozen=True)
class TokenSubject:
    """Whom a login token speaks for; ``key_id`` is None in local mode (no keys)."""

    workspace: str
    user: str
    key_id: str | None = None


def subject_for_api_key(connection: Connection, secret: str) -> TokenSubject:
    caller = keys.authenticate(connection, secret, None)
    return TokenSubject(caller.workspace, caller.user, keys.valid_key(connection, secret).id)


def caller_for_subject(connection: Connection, subject: TokenSubject) -> Caller:
    """The caller a token speaks for, as long as its key is still valid: revoking a key
    ends the tokens it was exchanged for."""
    key = next((key for key in keys.list_keys(connection) if key.id == subject.key_id), None)
    if key is None or key.revoked_at is not None or subject.workspace not in key.workspaces:
        raise Unauthorized("The API key this token was issued for is no longer valid: log in again")
    return Caller(workspace=subject.workspace, user=key.name)
