"""API keys: random secrets shown once, stored only as their SHA-256.

Keys carry 256 bits of randomness, so a fast hash is enough: there is nothing to
brute-force that a slow password hash would protect.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

KEY_PREFIX = "sb_"


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_from_header(authorization: str | None) -> str | None:
    """Opik sends the raw key; other clients send ``Bearer <key>``. Accept both."""
    if not authorization:
        return None
    value = authorization.strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value or None


@dataclass
class ApiKey:
    id: str
    name: str
    workspaces: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    hint: str = ""  # the first characters of the secret, to tell keys apart in a list
