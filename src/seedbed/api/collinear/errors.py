"""Collinear's error shapes, which are FastAPI's defaults (Collinear's server is a FastAPI
app): a 422 is an ``HTTPValidationError``, ``{"detail": [{"loc", "msg", "type"}, ...]}``
(the only error response its OpenAPI document declares); any other status is
``{"detail": "<message>"}``.

The shapes belong to the Collinear routes, not to the app: :class:`CollinearRoute`
catches whatever its route raises (a body that fails validation, a missing key, a
provider that is down) and answers in Collinear's shape, so the app-wide handlers keep
answering in Opik's shapes and nothing has to look at request paths.
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

LOGGER = logging.getLogger("seedbed.api.collinear")


class CollinearRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_in_collinear_shape(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as error:  # noqa: BLE001 - every failure gets the surface's shape
                return await error_response(request, error)

        return handle_in_collinear_shape


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
            problem = {"type": "unprocessable", "loc": ["body"], "msg": error.message}
            return JSONResponse({"detail": [problem]}, status_code=422)
        # As FastAPI's HTTPBearer answers a request without credentials.
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
