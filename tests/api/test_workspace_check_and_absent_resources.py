"""Opik's access check (``POST /auth``, ``GET /auth/workspace``) and the listings of what
seedbed does not keep (optimizations, attachments), which are empty pages."""

import uuid

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.services import keys
from seedbed.settings import Settings
from tests.api.opik_http import API, get_json

EMPTY = {"page": 1, "size": 0, "total": 0, "content": [], "sortableBy": []}


@pytest.fixture
def secured(database_url, database, tmp_path):
    settings = Settings(database_url=database_url, auth="required", home=tmp_path)
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def test_in_local_mode_every_workspace_passes_the_check(client):
    for workspace in ("default", "team-a"):
        headers = {"Comet-Workspace": workspace}
        assert client.post(f"{API}/auth", json={}, headers=headers).status_code == 204
        assert get_json(client, f"{API}/auth/workspace", headers=headers) == {
            "workspace_name": workspace
        }
    assert client.post(f"/api{API}/auth").status_code == 204  # the body is optional


def test_with_keys_the_check_passes_only_for_a_workspace_the_key_opens(secured, database):
    with database.writing() as connection:
        secret = keys.create_key(connection, "ci", ["team-a"]).secret
    opened = {"Authorization": secret, "Comet-Workspace": "team-a"}
    assert secured.post(f"{API}/auth", json={}, headers=opened).status_code == 204
    assert get_json(secured, f"{API}/auth/workspace", headers=opened) == {
        "workspace_name": "team-a"
    }
    refused = [
        secured.post(f"{API}/auth", json={}, headers={**opened, "Comet-Workspace": "team-b"}),
        secured.post(f"{API}/auth", json={}, headers={"Comet-Workspace": "team-a"}),
        secured.post(f"{API}/auth", json={}, headers={**opened, "Authorization": "wrong"}),
    ]
    for response in refused:
        assert response.status_code == 401
        assert response.json()["code"] == 401 and response.json()["message"]


def test_optimizations_and_attachments_list_as_empty_pages(client):
    assert get_json(client, f"{API}/optimizations") == EMPTY
    assert get_json(client, f"{API}/optimizations", page=3, dataset_name="x")["page"] == 3
    project = client.post(f"{API}/projects", json={"name": "bot"})
    project_id = project.headers["location"].rsplit("/", 1)[1]
    query = {
        "project_id": project_id,
        "entity_type": "trace",
        "entity_id": str(uuid.uuid4()),
        "path": "aHR0cA==",
    }
    listed = client.get(f"{API}/attachment/list", params=query)
    assert (listed.status_code, listed.json()) == (200, EMPTY)


def test_the_empty_listings_still_refuse_bad_input(client):
    assert client.get(f"{API}/optimizations", params={"filters": "{"}).status_code == 400
    unknown_project = client.get(f"{API}/optimizations", params={"project_id": str(uuid.uuid4())})
    assert unknown_project.status_code == 404
    missing_entity = client.get(
        f"{API}/attachment/list", params={"project_id": str(uuid.uuid4()), "entity_type": "trace"}
    )
    assert missing_entity.status_code == 422
