"""Galileo's login: ``POST /login/api_key`` exchanges an API key for a JWT, which every
later request carries as ``Authorization: Bearer <JWT>``.

The JWT is HS256, signed with a secret the server keeps in ``<home>/galileo-token.key``
(made on first use), so tokens survive a restart of the server. The client reads only
its ``exp``, and logs in again with its key shortly before it; 30 days keep that rare.
A token names the key it was issued for, and each request checks that the key is still
valid: revoking a key ends its tokens at once.

In local mode (loopback, no keys) any API key logs in, and requests need no token, as
everywhere else in seedbed. A plain seedbed key is also accepted as the bearer, for
callers that skip the login (curl).
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.engine import Connection

import seedbed
from seedbed.api.auth import caller_for_credential
from seedbed.api.dependencies import DatabaseDep, Reading, SettingsDep, settings_of
from seedbed.api.fastapi_shape import FastAPIShapedRoute
from seedbed.api.galileo import presenters
from seedbed.api.galileo.schemas import ApiKeyLogin
from seedbed.api.galileo.users import TokenSubject, caller_for_subject, subject_for_api_key
from seedbed.domain.errors import Unauthorized
from seedbed.domain.keys import secret_from_header
from seedbed.services.context import DEFAULT_WORKSPACE, LOCAL_USER, Caller, utcnow

TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600
SECRET_FILE = "galileo-token.key"
_secret_lock = threading.Lock()
_secrets: dict[Path, bytes] = {}

router = APIRouter(tags=["Galileo"], route_class=FastAPIShapedRoute)


# -- tokens --------------------------------------------------------------------------------


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, signed: str) -> str:
    return _encode(hmac.new(secret, signed.encode(), hashlib.sha256).digest())


def issue_token(secret: bytes, subject: TokenSubject, now: float) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "sub": subject.user,
        "ws": subject.workspace,
        "kid": subject.key_id,
        "iat": int(now),
        "exp": int(now) + TOKEN_LIFETIME_SECONDS,
    }
    signed = ".".join(
        _encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    return f"{signed}.{_signature(secret, signed)}"


def verify_token(secret: bytes, token: str, now: float) -> TokenSubject:
    try:
        header, claims, signature = token.split(".")
        if not hmac.compare_digest(signature, _signature(secret, f"{header}.{claims}")):
            raise ValueError("bad signature")
        payload = json.loads(_decode(claims))
        if json.loads(_decode(header)).get("alg") != "HS256" or not payload["exp"] > now:
            raise ValueError("expired")
        return TokenSubject(payload["ws"], payload["sub"], payload["kid"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Unauthorized("The token is not valid or has expired: log in again") from None


def token_secret(request: Request) -> bytes:
    """The signing secret of the server's home, read once per home."""
    path = Path(settings_of(request).home) / SECRET_FILE
    if path not in _secrets:
        with _secret_lock:
            if path not in _secrets:
                _secrets[path] = _load_or_make_secret(path)
    return _secrets[path]


def _load_or_make_secret(path: Path) -> bytes:
    """Made once per home, atomically: a server that starts beside another one (or a
    restart) finds the same secret, never a half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_bytes(secrets.token_bytes(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process made it first; theirs wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes()


# -- who is calling ------------------------------------------------------------------------


def galileo_caller(request: Request, settings: SettingsDep, database: DatabaseDep) -> Caller:
    """A Galileo token (``Authorization: Bearer <JWT>``), or a plain seedbed key."""

    def read_token(connection: Connection, credential: str) -> Caller | None:
        if credential.count(".") != 2:  # a seedbed API key, not a token
            return None
        subject = verify_token(token_secret(request), credential, time.time())
        return caller_for_subject(connection, subject)

    return caller_for_credential(
        settings,
        database,
        secret_from_header(request.headers.get("authorization")),
        missing="Not authenticated: log in with POST /login/api_key and send the token as a Bearer",
        read_token=read_token,
    )


GalileoCaller = Annotated[Caller, Depends(galileo_caller)]


# -- routes --------------------------------------------------------------------------------


@router.get("/healthcheck")
def healthcheck() -> dict:
    return {"api_version": "v2", "message": "ok", "version": seedbed.__version__}


@router.post("/login/api_key")
def login_with_api_key(
    body: ApiKeyLogin, request: Request, connection: Reading, settings: SettingsDep
) -> dict:
    if settings.requires_api_key:
        subject = subject_for_api_key(connection, body.api_key)
    else:
        subject = TokenSubject(DEFAULT_WORKSPACE, LOCAL_USER)
    return {
        "access_token": issue_token(token_secret(request), subject, time.time()),
        "token_type": "bearer",
    }


@router.get("/current_user")
def current_user(caller: GalileoCaller) -> dict:
    return presenters.current_user(caller.workspace, caller.user, utcnow())
