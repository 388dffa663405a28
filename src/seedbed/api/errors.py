"""One handler per error kind, answering in Opik's shapes (the only surface so far):
``{"errors": [...]}`` for 404, 409 and 422; ``{"code": N, "message": ...}`` otherwise."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from seedbed.domain.errors import SeedbedError

LOGGER = logging.getLogger("seedbed.api")
_LIST_SHAPED = (404, 409, 422)


def error_response(status: int, messages: list[str]) -> JSONResponse:
    if status in _LIST_SHAPED:
        return JSONResponse({"errors": messages}, status_code=status)
    return JSONResponse({"code": status, "message": "; ".join(messages)}, status_code=status)


def _describe(error: dict) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
    return f"{location}: {error.get('msg')}" if location else str(error.get("msg"))


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
    async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return error_response(error.status_code, [str(error.detail)])

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        LOGGER.exception("unexpected error", exc_info=error)
        return error_response(500, ["Internal server error"])
