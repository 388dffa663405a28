"""The one error hierarchy of seedbed.

    SeedbedError
    ├── InvalidInput      the request itself is malformed (HTTP 400)
    ├── Unauthorized      no key, or a key that does not open this workspace (HTTP 401)
    ├── NotFound          the thing does not exist, or is not yours to see (HTTP 404)
    ├── Conflict          the request clashes with what is stored (HTTP 409)
    ├── Unprocessable     well-formed, but breaks a rule of the resource (HTTP 422)
    ├── PayloadTooLarge   the body is over the configured limit (HTTP 413)
    └── UpstreamFailure   an LLM provider failed and nothing could be produced (HTTP 502)

Each API surface maps these to its own error shape in one handler.
"""


class SeedbedError(Exception):
    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SeedbedError):
    status_code = 400


class Unauthorized(SeedbedError):
    status_code = 401


class NotFound(SeedbedError):
    status_code = 404


class Conflict(SeedbedError):
    status_code = 409


class PayloadTooLarge(SeedbedError):
    status_code = 413


class Unprocessable(SeedbedError):
    status_code = 422


class UpstreamFailure(SeedbedError):
    status_code = 502
