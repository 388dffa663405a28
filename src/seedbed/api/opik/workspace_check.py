"""Opik's access check: ``Opik.auth_check()`` posts to ``/auth``, and the client asks
``/auth/workspace`` which workspace "default" stands for when it builds a link.

Both answer once the caller is known, as Opik's do: in local mode every workspace is
open (seedbed makes a workspace on first use), so any is 204; with keys required, a
request without a key, with an unknown key, or for a workspace its key does not open is
a 401 before the route runs."""

from typing import Annotated, Any

from fastapi import APIRouter, Body

from seedbed.api.dependencies import CallerDep

router = APIRouter(tags=["Check"])


@router.post("/auth", status_code=204)
def check_access(caller: CallerDep, body: Annotated[dict[str, Any] | None, Body()] = None) -> None:
    """The body (Opik's ``AuthDetailsHolder``) is an empty object, kept for later use."""


@router.get("/auth/workspace")
def workspace_name(caller: CallerDep) -> dict:
    return {"workspace_name": caller.workspace}
