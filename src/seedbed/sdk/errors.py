"""What the SDK raises. Every failure it reports is a :class:`SeedbedClientError`::

    SeedbedClientError          any failure the client reports
    ├── ServerUnreachable       no answer: refused, unresolvable, dropped or timed out
    ├── APIError                the server answered with an error (status_code, message)
    │   ├── RequestRefused      400, 413, 422: the request is wrong as it stands
    │   ├── NotAuthorized       401, 403: a missing, unknown or revoked key, another workspace
    │   ├── NotFound            404: no such job (in this workspace)
    │   ├── Conflict            409
    │   └── ServerError         5xx
    ├── JobFailed               the job ended without delivering what was asked (``job``)
    └── JobTimedOut             ``wait`` gave up first (also a :class:`TimeoutError`)

The HTTP library's own exceptions never escape; the one an error came from is its
``__cause__``.
"""

from typing import Any

import httpx


class SeedbedClientError(Exception):
    """Any failure the client reports."""


class ServerUnreachable(SeedbedClientError):
    """The server could not be reached, or did not answer in time."""


class APIError(SeedbedClientError):
    """The server answered with an error; ``message`` is what it said."""

    def __init__(self, status_code: int, message: str, body: Any = None) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.body = body


class RequestRefused(APIError):
    pass


class NotAuthorized(APIError):
    pass


class NotFound(APIError):
    pass


class Conflict(APIError):
    pass


class ServerError(APIError):
    pass


class JobFailed(SeedbedClientError):
    """The job ended without delivering what was asked; ``job`` holds its final state."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(f"job {job['id']} {job['status']}: {job.get('detail') or ''}")
        self.job = job


class JobTimedOut(SeedbedClientError, TimeoutError):
    """``wait`` gave up before the job ended; ``job`` holds its last state."""

    def __init__(self, job: dict[str, Any], timeout: float) -> None:
        super().__init__(f"job {job['id']} still {job['status']} after {timeout} s")
        self.job = job


_BY_STATUS: dict[int, type[APIError]] = {
    400: RequestRefused,
    413: RequestRefused,
    422: RequestRefused,
    401: NotAuthorized,
    403: NotAuthorized,
    404: NotFound,
    409: Conflict,
}


def api_error(response: httpx.Response) -> APIError:
    """The error a response with an error status stands for, with the server's message
    read from any of seedbed's error shapes."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message = _message(body) or response.text or response.reason_phrase
    if response.status_code >= 500:
        kind: type[APIError] = ServerError
    else:
        kind = _BY_STATUS.get(response.status_code, APIError)
    return kind(response.status_code, message, body)


def _message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("errors"), list):  # {"errors": [...]}
        return "; ".join(str(message) for message in body["errors"])
    if "message" in body:  # {"code": 400, "message": ...}
        return str(body["message"])
    detail = body.get("detail")  # FastAPI's {"detail": ...}
    if isinstance(detail, list):
        return "; ".join(str(problem.get("msg", problem)) for problem in detail)
    return str(detail) if detail is not None else None
