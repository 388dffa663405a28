"""FastAPI's default error shapes, which Galileo's and Collinear's servers (FastAPI apps)
answer in and their clients parse: a 422 is an ``HTTPValidationError``, ``{"detail":
[{"loc", "msg", "type"}, ...]}`` (the only error body either OpenAPI document declares);
any other status is ``{"detail": "<message>"}``. A stale ``If-Match`` is a 412, as Galileo
documents for content edits.

The shapes belong to those surfaces' routes, not to the app: :class:`FastAPIShapedRoute`
catches whatever its route raises (a body that fails validation, a missing key or token,
a dataset that is not there, a provider that is down) and answers in FastAPI's shape, so
the app-wide handlers keep answering in Opik's shapes.
"""

import logging
import math
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from seedbed.domain.errors import SeedbedError, Unauthorized

LOGGER = logging.getLogger("seedbed.api")


class FastAPIShapedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_in_fastapi_shape(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as error:  # noqa: BLE001 - every failure gets the surface's shape
                return await error_response(request, error)

        return handle_in_fastapi_shape


def invalid_field(
    location: Sequence[str | int], message: str, value: Any
) -> RequestValidationError:
    """A refusal of one field, reported like pydantic's own."""
    problem = {"type": "value_error", "loc": tuple(location), "msg": message, "input": value}
    return RequestValidationError([problem])


async def error_response(request: Request, error: Exception) -> Response:
    if isinstance(error, RequestValidationError):
        # FastAPI's own answer, but the inputs it echoes may hold a NaN that Python's
        # parser read and that no JSON answer can carry.
        problems = [
            {**problem, "input": _finite(problem["input"])} if "input" in problem else problem
            for problem in error.errors()
        ]
        return await request_validation_exception_handler(request, RequestValidationError(problems))
    if isinstance(error, HTTPException):
        return await http_exception_handler(request, error)
    if isinstance(error, SeedbedError):
        if error.status_code == 422:
            problem = {"type": "value_error", "loc": ["body"], "msg": error.message}
            return JSONResponse({"detail": [problem]}, status_code=422)
        # As FastAPI's HTTPBearer and OAuth2PasswordBearer answer a request they cannot
        # authenticate.
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        return JSONResponse(
            {"detail": error.message}, status_code=error.status_code, headers=headers
        )
    LOGGER.exception("unexpected error", exc_info=error)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
