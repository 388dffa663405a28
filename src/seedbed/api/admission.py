"""Who may send a request body, decided before the body is read.

When keys are required, a request without a valid credential is answered 401 before a
byte of its body is read, decompressed or parsed: an anonymous client cannot make the
server hold or inflate large bodies. The logins, which carry the key in their body, take
a small body without one. The API's documentation (``/openapi.json``, ``/docs``,
``/redoc``) needs a key too.

A credential is an API key (``Authorization``, raw or ``Bearer``; Collinear's
``API-Key``; the web UI's cookie) or a Galileo token. This only says that the caller is
someone; the route still checks which workspace they may see.
"""

import asyncio
import time
from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.types import Scope

from seedbed.api.auth import MISSING_KEY
from seedbed.api.collinear import auth as collinear_auth
from seedbed.api.galileo.users import caller_for_subject
from seedbed.domain.errors import Unauthorized
from seedbed.domain.keys import secret_from_header
from seedbed.services import keys

# Login forms and Galileo's key exchange: a key in a small JSON or form body.
LOGIN_PATHS = frozenset({"/login", "/login/api_key", "/v2/login/api_key"})
LOGIN_BODY_BYTES = 64 * 1024
DOCUMENTATION_PATHS = frozenset({"/openapi.json", "/docs", "/redoc"})
_KEY_COOKIE = "seedbed_api_key"  # the web UI's (seedbed.web.session)


def credential(scope: Scope) -> str | None:
    headers = {name: value.decode("latin-1") for name, value in scope.get("headers", ())}
    found = secret_from_header(headers.get(b"authorization")) or secret_from_header(
        headers.get(b"api-key")
    )
    if found is None and b"cookie" in headers:
        cookie = SimpleCookie()
        try:
            cookie.load(headers[b"cookie"])
        except Exception:  # a malformed cookie header carries no key
            return None
        morsel = cookie.get(_KEY_COOKIE)
        found = morsel.value if morsel and morsel.value else None
    return found


class BodyAdmission:
    """The largest body a request may send, or :class:`Unauthorized`."""

    def __init__(self, full_limit: int) -> None:
        self.full_limit = full_limit

    async def body_limit(self, scope: Scope) -> int:
        app = scope["app"]
        if not app.state.settings.requires_api_key:
            return self.full_limit
        secret = credential(scope)
        if secret is None:
            if scope.get("path") in LOGIN_PATHS:
                return min(LOGIN_BODY_BYTES, self.full_limit)
            raise Unauthorized(_missing_key_message(scope.get("path", "")))
        await asyncio.to_thread(_check, Request(scope), secret)
        return self.full_limit

    def guards(self, scope: Scope) -> bool:
        """Whether this request is checked here: one with a body, or the documentation."""
        if scope["type"] != "http":
            return False
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return scope.get("path") in DOCUMENTATION_PATHS
        return True


def _missing_key_message(path: str) -> str:
    """Collinear's clients may send the key in ``API-Key``; the other surfaces in
    ``Authorization``. The routes' own checks say the same."""
    if path.startswith(collinear_auth.PREFIX):
        return collinear_auth.MISSING_KEY
    return MISSING_KEY


def _check(request: Request, secret: str) -> None:
    if secret.count(".") == 2:  # a Galileo token: signed by this server, for a live key
        from seedbed.api.galileo.auth import token_secret, verify_token

        subject = verify_token(token_secret(request), secret, time.time())
        with request.app.state.database.reading() as connection:
            caller_for_subject(connection, subject)
        return
    with request.app.state.database.reading() as connection:
        keys.workspaces_of_key(connection, secret)
