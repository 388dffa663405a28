"""Request bodies: who may send one (``api/admission.py``), the size limit and gzip,
before any route sees them.

The Opik client gzips every body of 256 bytes or more (``Content-Encoding: gzip``). The
limit applies to the decompressed size too, so a small compressed bomb is refused
like a large body.
"""

import asyncio
import json
import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seedbed.api.admission import BodyAdmission
from seedbed.domain.errors import InvalidInput, PayloadTooLarge, Unauthorized

# One member is what clients send; a few concatenated are legal gzip. Many empty ones
# are only a way to make the server work.
MAX_GZIP_MEMBERS = 64
_GZIP_SLICE_BYTES = 64 * 1024

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
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestBodyMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, admission: BodyAdmission | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.admission = admission or BodyAdmission(max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.admission.guards(scope):
            await self.app(scope, receive, send)
            return
        try:
            limit = await self.admission.body_limit(scope)
        except Unauthorized as error:
            await _reply(scope, send, error.status_code, error.message)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        too_large = f"Request body is larger than the limit of {limit} bytes"
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reply(scope, send, 413, too_large)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _reply(scope, send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding == b"gzip":
            try:
                # In a thread: inflating up to the limit takes a while, and the event
                # loop answers everyone else meanwhile.
                body = await asyncio.to_thread(gunzip, body, limit)
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


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress every gzip member (a body may be several, concatenated), in time
    linear in the body: the input is fed in slices, so what one member leaves over is at
    most a slice, never the rest of the body again. At most ``MAX_GZIP_MEMBERS`` members
    and ``limit`` bytes out."""
    view = memoryview(body)
    parts: list[bytes] = []
    size = offset = members = 0
    while offset < len(view):
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise InvalidInput(
                f"Request body is not valid gzip: more than {MAX_GZIP_MEMBERS} gzip members"
            )
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        while not decompressor.eof:
            if offset >= len(view):
                raise InvalidInput("Request body is not valid gzip: the stream is truncated")
            piece = view[offset : offset + _GZIP_SLICE_BYTES]
            offset += len(piece)
            try:
                part = decompressor.decompress(piece, limit + 1 - size)
            except zlib.error as error:
                raise InvalidInput(f"Request body is not valid gzip: {error}") from None
            size += len(part)
            if size > limit or decompressor.unconsumed_tail:
                raise PayloadTooLarge(
                    f"Decompressed request body is larger than the limit of {limit} bytes"
                )
            parts.append(part)
        offset -= len(decompressor.unused_data)
    return b"".join(parts)
