"""What the browser remembers between pages: the API key (when the server requires
keys) and the workspace chosen.

Both live in cookies that last as long as the browser session, ``HttpOnly`` (no script
on a page can read the key) and ``SameSite=Strict`` (no other site's page can send them).
The key is not signed or wrapped: the server checks it against its stored hash on every
request, exactly as it checks the API's ``Authorization`` header, so a forged cookie is
just a wrong key.
"""

from fastapi import Request, Response

KEY_COOKIE = "seedbed_api_key"
WORKSPACE_COOKIE = "seedbed_workspace"
LOGIN_PATH = "/login"


def api_key(request: Request) -> str | None:
    return request.cookies.get(KEY_COOKIE) or None


def chosen_workspace(request: Request) -> str | None:
    return (request.cookies.get(WORKSPACE_COOKIE) or "").strip() or None


def remember(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def forget(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/")
