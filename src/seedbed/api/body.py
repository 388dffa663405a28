"""Request bodies: size limit and gzip, before any route sees them.

The Opik client gzips every body of 256 bytes or more (``Content-Encoding: gzip``). The
limit applies to the decompressed size too, so a small compressed bomb is refused
like a large body.
"""

import json
import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seedbed.domain.errors import InvalidInput, PayloadTooLarge

# Opik's surface and seedbed's own answer {"code", "message"}; Galileo's and Collinear's
# (FastAPI apps) answer {"detail": ...}.
_OPIK_SHAPED_PREFIXES = (
    "/v1/private",
    "/api/v1/private",
    "/seedbed/",
    "/is-alive",
    "/api/is-alive",
)


def answers_in_opik_shape(path: str) -> bool:
    """Whether ``path`` belongs to Opik's surface or seedbed's own (else Galileo's or
    Collinear's, which answer in FastAPI's shapes)."""
    return path.startswith(_OPIK_SHAPED_PREFIXES)


def error_body(path: str, status: int, message: str) -> bytes:
    if answers_in_opik_shape(path):
        return json.dumps({"code": status, "message": message}).encode()
    return json.dumps({"detail": message}).encode()


async def _reply(scope: Scope, send: Send, status: int, message: str) -> None:
    body = error_body(scope.get("path", ""), status, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _reply(
                scope,
                send,
                413,
                f"Request body is larger than the limit of {self.max_body_bytes} bytes",
            )
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                await _reply(
                    scope,
                    send,
                    413,
                    f"Request body is larger than the limit of {self.max_body_bytes} bytes",
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding == b"gzip":
            try:
                body = self._gunzip(body)
            except (InvalidInput, PayloadTooLarge) as error:
                await _reply(scope, send, error.status_code, error.message)
                return
            scope = dict(scope)
            scope["headers"] = [
                (name, value)
                for name, value in scope["headers"]
                if name not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        elif encoding not in (b"", b"identity"):
            await _reply(
                scope,
                send,
                400,
                f"Unsupported Content-Encoding: {encoding.decode(errors='replace')}",
            )
            return

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _gunzip(self, body: bytes) -> bytes:
        """Decompress every gzip member (a body may be several, concatenated)."""
        parts: list[bytes] = []
        size = 0
        remaining = body
        while remaining:
            decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            try:
                part = decompressor.decompress(remaining, self.max_body_bytes + 1 - size)
            except zlib.error as error:
                raise InvalidInput(f"Request body is not valid gzip: {error}") from None
            size += len(part)
            if size > self.max_body_bytes or decompressor.unconsumed_tail:
                raise PayloadTooLarge(
                    f"Decompressed request body is larger than the limit of {self.max_body_bytes} bytes"
                )
            if not decompressor.eof:
                raise InvalidInput("Request body is not valid gzip: the stream is truncated")
            parts.append(part)
            remaining = decompressor.unused_data
        return b"".join(parts)
