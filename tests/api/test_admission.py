"""With keys required, a request without a valid credential is refused before its body
is read (a 401 in its surface's shape), and so is the API's documentation; gzip bodies
are inflated in bounded, linear work, off the event loop."""

import asyncio
import gzip
import time
import zlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.api.body import MAX_GZIP_MEMBERS, gunzip
from seedbed.domain.errors import InvalidInput, PayloadTooLarge
from seedbed.services import keys
from seedbed.settings import Settings
from tests.api.opik_http import API

EMPTY_MEMBER = gzip.compress(b"", mtime=0)


@pytest.fixture
def guarded(settings, database) -> Iterator[tuple[TestClient, str]]:
    """The app with keys required, and a valid key."""
    required = Settings(**{**settings.model_dump(), "auth": "required"})
    with database.writing() as connection:
        secret = keys.create_key(connection, "ci", ["default"]).secret
    with TestClient(create_app(required, database)) as client:
        yield client, secret


def _call(app, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """Send one request straight to the ASGI app; the status and how many times the app
    asked for the body."""
    reads = 0
    status = 0

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return status, reads


@pytest.mark.parametrize(
    "path",
    [f"{API}/datasets", "/seedbed/v1/jobs", "/datasets/extend", "/api/v1/synth_data/generate"],
)
@pytest.mark.parametrize("credential", [None, b"sb_not-a-key", b"Bearer a.b.c"])
def test_a_body_without_a_valid_credential_is_refused_unread(guarded, path, credential):
    client, _ = guarded
    headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
    if credential is not None:
        headers.append((b"authorization", credential))
    bomb = EMPTY_MEMBER * 100_000  # 2 MB of empty gzip members

    status, reads = _call(client.app, path, bomb, headers)

    assert (status, reads) == (401, 0)


def test_the_401_before_the_body_has_each_surfaces_shape(guarded):
    client, _ = guarded
    opik = client.post(f"{API}/datasets", content=b"{}")
    galileo = client.post("/datasets/extend", content=b"{}")

    assert opik.status_code == galileo.status_code == 401
    assert opik.json()["code"] == 401 and "API key" in opik.json()["message"]
    assert "API key" in galileo.json()["detail"]


def test_a_valid_key_still_sends_its_body(guarded):
    client, secret = guarded
    created = client.post(
        f"{API}/datasets",
        content=gzip.compress(b'{"name": "kept"}'),
        headers={
            "Authorization": secret,
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    assert created.status_code == 201, created.text


def test_a_galileo_login_needs_no_key_but_takes_only_a_small_body(guarded):
    client, secret = guarded
    login = client.post("/login/api_key", json={"api_key": secret})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    assert (
        client.get("/current_user", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )

    padded = client.post("/login/api_key", json={"api_key": secret, "pad": "x" * 100_000})
    assert padded.status_code == 413


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
def test_the_documentation_needs_a_key_when_keys_are_required(guarded, path):
    client, secret = guarded
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "sb_wrong"}).status_code == 401
    assert client.get(path, headers={"Authorization": secret}).status_code == 200


def test_the_documentation_is_open_in_local_mode(client):
    assert client.get("/openapi.json").status_code == 200


def test_many_gzip_members_are_refused_quickly_even_with_a_key(guarded):
    client, secret = guarded
    started = time.monotonic()
    refused = client.post(
        f"{API}/datasets",
        content=EMPTY_MEMBER * 100_000,
        headers={"Authorization": secret, "Content-Encoding": "gzip"},
    )
    assert refused.status_code == 400
    assert f"more than {MAX_GZIP_MEMBERS} gzip members" in refused.json()["message"]
    # Generous: before the cap, this body took 8 s of the event loop.
    assert time.monotonic() - started < 5


def test_gunzip_reads_concatenated_members_and_bounds_them():
    members = [gzip.compress(f"part {n};".encode()) for n in range(MAX_GZIP_MEMBERS)]
    assert gunzip(b"".join(members), 10_000) == b"".join(
        f"part {n};".encode() for n in range(MAX_GZIP_MEMBERS)
    )
    with pytest.raises(InvalidInput, match="gzip members"):
        gunzip(b"".join(members) + members[0], 10_000)
    with pytest.raises(InvalidInput, match="truncated"):
        gunzip(members[0][:-3], 10_000)
    with pytest.raises(PayloadTooLarge):
        gunzip(gzip.compress(b"x" * 10_001), 10_000)
    with pytest.raises(InvalidInput, match="not valid gzip"):
        gunzip(zlib.compress(b"zlib, not gzip"), 10_000)
    # Members longer than the slices the input is fed in, one ending inside a slice.
    payload = bytes(range(256)) * 2_000
    assert gunzip(gzip.compress(payload) + gzip.compress(payload), 2 * 10**6) == payload * 2
