"""What every page of the UI shares: who is looking (:class:`Visitor`), the route class
that answers failures as pages, and the guard against other sites posting forms here.

The UI is one more surface over the services: a page reads through the same
``Database.reading()`` / ``Database.writing()`` units of work the API routes use, and a
write that fails rolls back whole before its message is shown.

A form sent with bad input comes back as the same page with the message, answered 200
like any page a person reads (a browser logs every 4xx document as a console error);
only a page that cannot be shown at all (not found, refused) carries its error status.
"""

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.engine import Connection
from starlette.routing import Match
from starlette.types import Scope

from seedbed.api.dependencies import DatabaseDep, SettingsDep
from seedbed.domain.errors import SeedbedError, Unauthorized
from seedbed.services import keys
from seedbed.services.context import DEFAULT_WORKSPACE, Caller
from seedbed.storage.database import Database
from seedbed.web import session
from seedbed.web.templating import render_error

_SAFE_METHODS = ("GET", "HEAD")


@dataclass
class Visitor:
    """The person using the UI: the caller the services see, and the workspaces they may
    switch to (empty in local mode, where any workspace name is allowed)."""

    caller: Caller
    database: Database
    keys_required: bool
    workspaces: list[str] = field(default_factory=list)

    @property
    def workspace(self) -> str:
        return self.caller.workspace

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.database.reading() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """Commits when the block ends, rolls back whole when it raises."""
        with self.database.writing() as connection:
            yield connection


def current_visitor(request: Request, settings: SettingsDep, database: DatabaseDep) -> Visitor:
    chosen = session.chosen_workspace(request)
    if not settings.requires_api_key:
        return Visitor(Caller(workspace=chosen or DEFAULT_WORKSPACE), database, False)
    secret = session.api_key(request)
    if not secret:
        raise Unauthorized("Enter an API key to use seedbed")
    with database.reading() as connection:
        allowed = keys.workspaces_of_key(connection, secret)
        workspace = chosen if chosen in allowed else allowed[0]
        caller = keys.authenticate(connection, secret, workspace)
    return Visitor(caller, database, True, allowed)


VisitorDep = Annotated[Visitor, Depends(current_visitor)]


def accepts_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


class PageRoute(APIRoute):
    """A route of the UI.

    - A page is found only by browsers asking for HTML: ``GET /datasets`` is also Galileo's
      JSON listing, which its client (asking for JSON) must keep reaching.
    - A form posted from another site is refused: with no key in local mode, nothing else
      would stop a page elsewhere from posting to a server on 127.0.0.1.
    - A failure is a page with its message (a missing key: the key page), never JSON.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("type") == "http" and scope.get("method") in _SAFE_METHODS:
            if not accepts_html(scope):
                return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_as_page(request: Request) -> Response:
            if request.method not in _SAFE_METHODS and not _same_origin(request):
                return render_error(request, 403, "Forms may only be sent from seedbed's own pages")
            try:
                return await handle(request)
            except Unauthorized as error:
                if request.url.path == session.LOGIN_PATH:
                    raise
                return RedirectResponse(_login_url(request, error.message), status_code=303)
            except SeedbedError as error:
                return render_error(request, error.status_code, error.message)
            except RequestValidationError as error:
                return render_error(request, 400, _describe(error))

        return handle_as_page


def _same_origin(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


def _login_url(request: Request, message: str) -> str:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in _SAFE_METHODS:
        back = request.headers.get("referer") and urlsplit(request.headers["referer"]).path or "/"
    return f"{session.LOGIN_PATH}?next={quote(back)}&message={quote(message)}"


def _describe(error: RequestValidationError) -> str:
    problems = []
    for problem in error.errors():
        where = ".".join(
            str(part) for part in problem.get("loc", ()) if part not in ("query", "body", "path")
        )
        problems.append(f"{where}: {problem.get('msg')}" if where else str(problem.get("msg")))
    return "; ".join(problems)
