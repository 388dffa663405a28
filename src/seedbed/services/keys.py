"""API keys: create (the secret is shown once), list, revoke, and authenticate requests."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import InvalidInput, NotFound, Unauthorized
from seedbed.domain.keys import ApiKey, hash_secret, new_secret
from seedbed.services.context import DEFAULT_WORKSPACE, Caller, utcnow
from seedbed.storage.repositories.keys import KeyRepository


@dataclass
class CreatedKey:
    key: ApiKey
    secret: str


def create_key(connection: Connection, name: str, workspaces: list[str]) -> CreatedKey:
    workspaces = sorted({workspace.strip() for workspace in workspaces if workspace.strip()})
    if not workspaces:
        raise InvalidInput("a key must be bound to at least one workspace")
    secret = new_secret()
    key = ApiKey(
        id=ids.new_id(), name=name, workspaces=workspaces, created_at=utcnow(), hint=secret[:8]
    )
    KeyRepository(connection).insert(key, hash_secret(secret))
    return CreatedKey(key, secret)


def list_keys(connection: Connection) -> list[ApiKey]:
    return KeyRepository(connection).all()


def revoke_key(connection: Connection, key_id: str) -> None:
    if not KeyRepository(connection).revoke(ids.canonical_id(key_id, "key id"), utcnow()):
        raise NotFound(f"No active key with id {key_id}")


def valid_key(connection: Connection, secret: str | None) -> ApiKey:
    """The key ``secret`` is (``Unauthorized`` for a missing, unknown or revoked one)."""
    if not secret:
        raise Unauthorized("An API key is required: send it in the Authorization header")
    key = KeyRepository(connection).by_secret_hash(hash_secret(secret))
    if key is None:
        raise Unauthorized("The API key is not valid")
    return key


def workspaces_of_key(connection: Connection, secret: str | None) -> list[str]:
    """The workspaces a key opens (``Unauthorized`` for a missing or unknown key)."""
    return list(valid_key(connection, secret).workspaces)


def authenticate(connection: Connection, secret: str | None, workspace: str | None) -> Caller:
    """The caller a key speaks for in the requested workspace.

    With no workspace asked for, a key bound to a single workspace uses that one.
    """
    key = valid_key(connection, secret)
    if not workspace:
        workspace = key.workspaces[0] if len(key.workspaces) == 1 else DEFAULT_WORKSPACE
    if workspace not in key.workspaces:
        raise Unauthorized(f"The API key does not give access to workspace '{workspace}'")
    return Caller(workspace=workspace, user=key.name)
