"""Galileo's error shapes, which are FastAPI's defaults (Galileo's API is a FastAPI app):
a 422 is an ``HTTPValidationError``, ``{"detail": [{"loc", "msg", "type"}, ...]}`` (the
only error body its OpenAPI document declares, and the one its client parses); any
other status is ``{"detail": "<message>"}``. A stale ``If-Match`` is a 412, as Galileo
documents for content edits.

The shapes belong to the Galileo routes, not to the app: :class:`GalileoRoute` catches
whatever its route raises (a body that fails validation, a missing token, a dataset
that is not there) and answers in Galileo's shape, so the app-wide handlers keep
answering in Opik's shapes and nothing has to look at request paths (Galileo's
``/datasets`` and Opik's ``/v1/private/datasets`` would make a path check fragile).
"""

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from seedbed.domain.errors import SeedbedError, Unauthorized

LOGGER = logging.getLogger("seedbed.api.galileo")


class GalileoRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_in_galileo_shape(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as error:  # noqa: BLE001 - every failure gets the surface's shape
                return await error_response(request, error)

        return handle_in_galileo_shape


async def error_response(request: Request, error: Exception) -> Response:
    if isinstance(error, RequestValidationError):
        return await request_validation_exception_handler(request, error)
    if isinstance(error, HTTPException):
        return await http_exception_handler(request, error)
    if isinstance(error, SeedbedError):
        if error.status_code == 422:
            problem = {"loc": ["body"], "msg": error.message, "type": "value_error"}
            return JSONResponse({"detail": [problem]}, status_code=422)
        # As FastAPI's OAuth2PasswordBearer answers a request it cannot authenticate.
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        return JSONResponse(
            {"detail": error.message}, status_code=error.status_code, headers=headers
        )
    LOGGER.exception("unexpected error", exc_info=error)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
