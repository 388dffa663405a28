"""Bodies refused before any route runs (too large, an unknown encoding) are refused in
the error shape of the surface the client speaks."""

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.settings import Settings


@pytest.fixture
def client(database, database_url, tmp_path):
    settings = Settings(database_url=database_url, home=tmp_path, max_body_bytes=1000)
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v1/private/datasets", {"code", "message"}),
        ("/api/v1/private/datasets", {"code", "message"}),
        ("/seedbed/v1/jobs", {"code", "message"}),
        ("/api/v1/synth_data/generate", {"detail"}),
        ("/datasets/extend", {"detail"}),
    ],
)
def test_too_large_and_badly_encoded_bodies_get_the_surfaces_shape(client, path, shape):
    too_large = client.post(path, content=b"x" * 5000, headers={"content-type": "application/json"})
    assert too_large.status_code == 413
    assert set(too_large.json()) == shape and "1000 bytes" in str(too_large.json())

    badly_encoded = client.post(
        path, content=b"{}", headers={"content-type": "application/json", "content-encoding": "br"}
    )
    assert badly_encoded.status_code == 400
    assert set(badly_encoded.json()) == shape and "br" in str(badly_encoded.json())
