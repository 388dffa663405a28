"""The key page (when the server requires keys), leaving, and switching workspace."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from seedbed.api.dependencies import DatabaseDep, SettingsDep
from seedbed.domain.errors import InvalidInput, Unauthorized
from seedbed.services import keys
from seedbed.web import session
from seedbed.web.pages import PageRoute, VisitorDep
from seedbed.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _local_path(next_path: str | None) -> str:
    """Only a path on this server: a login link must not send anyone elsewhere."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return "/datasets"
    return next_path


@router.get(session.LOGIN_PATH)
def login_page(
    request: Request, settings: SettingsDep, next: str = "/datasets", message: str = ""
) -> Response:
    if not settings.requires_api_key:
        return RedirectResponse(_local_path(next), status_code=303)
    return render(request, "login.html", next=_local_path(next), message=message)


@router.post(session.LOGIN_PATH)
def log_in(
    request: Request,
    database: DatabaseDep,
    api_key: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/datasets",
) -> Response:
    secret = api_key.strip()
    try:
        with database.reading() as connection:
            keys.workspaces_of_key(connection, secret)
    except Unauthorized as error:
        return render(request, "login.html", next=_local_path(next), message=error.message)
    response = RedirectResponse(_local_path(next), status_code=303)
    session.remember(response, request, session.KEY_COOKIE, secret)
    session.forget(response, session.WORKSPACE_COOKIE)
    return response


@router.post("/logout")
def log_out() -> Response:
    response = RedirectResponse(session.LOGIN_PATH, status_code=303)
    session.forget(response, session.KEY_COOKIE)
    session.forget(response, session.WORKSPACE_COOKIE)
    return response


@router.post("/workspace")
def switch_workspace(
    request: Request, visitor: VisitorDep, workspace: Annotated[str, Form()] = ""
) -> Response:
    wanted = workspace.strip()
    if not wanted:
        raise InvalidInput("Name a workspace to switch to")
    if visitor.keys_required and wanted not in visitor.workspaces:
        raise Unauthorized(f"Your API key does not give access to workspace '{wanted}'")
    response = RedirectResponse("/datasets", status_code=303)
    session.remember(response, request, session.WORKSPACE_COOKIE, wanted)
    return response
