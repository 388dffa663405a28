"""One handler per error kind, answering in Opik's shapes: ``{"errors": [...]}`` for
404, 409 and 422; ``{"code": N, "message": ...}`` otherwise.

Galileo's and Collinear's routes answer their own errors (``api/fastapi_shape.py``); what
reaches these handlers from their paths is the router's own 404 or 405 for a path or a
method nobody serves, and that is answered in FastAPI's shape, as those servers do.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from seedbed.api.body import answers_in_opik_shape
from seedbed.domain.errors import SeedbedError

LOGGER = logging.getLogger("seedbed.api")
_LIST_SHAPED = (404, 409, 422)


def error_response(
    status: int, messages: list[str], headers: dict[str, str] | None = None
) -> JSONResponse:
    if status in _LIST_SHAPED:
        return JSONResponse({"errors": messages}, status_code=status, headers=headers)
    return JSONResponse(
        {"code": status, "message": "; ".join(messages)}, status_code=status, headers=headers
    )


def _describe(error: dict) -> str:
    location = ".".join(
        str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")
    )
    return f"{location}: {error.get('msg')}" if location else str(error.get("msg"))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _listing_every_method_served(request: Request, error: HTTPException) -> HTTPException:
    """The router's 405 with an ``Allow`` header naming every method the path serves:
    Starlette names only the first route that matched the path, and FastAPI declares
    one route per method."""

    def serves(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] is Match.FULL for route in request.app.routes)

    served = [method for method in _METHODS if serves(method)]
    if not served:
        return error
    return HTTPException(
        405, error.detail, headers={**(error.headers or {}), "Allow": ", ".join(served)}
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SeedbedError)
    async def _seedbed_error(_request: Request, error: SeedbedError) -> JSONResponse:
        return error_response(error.status_code, [error.message])

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return error_response(400, ["Request body is not valid JSON"])
        return error_response(422, [_describe(problem) for problem in problems])

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 405:
            error = _listing_every_method_served(request, error)
        if not answers_in_opik_shape(request.url.path):
            return await http_exception_handler(request, error)
        return error_response(error.status_code, [str(error.detail)], error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        LOGGER.exception("unexpected error", exc_info=error)
        return error_response(500, ["Internal server error"])
