"""Workspaces keep data apart; API keys open workspaces when the server requires them.

What a key bound to some workspaces sees:

- asking for a workspace it is not bound to (``Comet-Workspace``) is a 401: the key
  does not open that workspace, whatever is asked of it;
- inside a workspace it opens, another workspace's datasets and items do not exist: a
  404, exactly as for an id that was never created, so a key cannot even learn that
  someone else's data is there (never a 403);
- with no ``Comet-Workspace`` header, a key bound to one workspace works in that one.

Dataset ids are global, though: creating a dataset with a client-chosen id that is
already taken anywhere is a 409 (ids are random UUIDs, so this reveals nothing guessable).
"""

import uuid

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.services import keys
from seedbed.settings import Settings
from tests.api.opik_http import API, create_dataset, put_items


def in_workspace(workspace: str, key: str | None = None) -> dict:
    headers = {"Comet-Workspace": workspace}
    if key:
        headers["Authorization"] = key
    return headers


def add_item(client, dataset_id: str, headers: dict, data: dict) -> str:
    item_id = str(uuid.uuid4())
    put_items(client, dataset_id, [{"id": item_id, "data": data}], headers=headers)
    return item_id


def dataset_names(client, headers: dict) -> list[str]:
    response = client.get(f"{API}/datasets", headers=headers)
    assert response.status_code == 200, response.text
    return [dataset["name"] for dataset in response.json()["content"]]


# -- workspaces in local mode ---------------------------------------------------------------


def test_the_same_name_lives_separately_in_two_workspaces(client):
    team_a, team_b = in_workspace("team-a"), in_workspace("team-b")
    a = create_dataset(client, "golden", headers=team_a)
    b = create_dataset(client, "golden", headers=team_b)
    add_item(client, a, team_a, {"owner": "a"})

    assert a != b
    assert (
        client.post(
            f"{API}/datasets/retrieve", json={"dataset_name": "golden"}, headers=team_a
        ).json()["id"]
        == a
    )
    assert (
        client.post(
            f"{API}/datasets/retrieve", json={"dataset_name": "golden"}, headers=team_b
        ).json()["id"]
        == b
    )
    assert client.get(f"{API}/datasets/{b}", headers=team_b).json()["dataset_items_count"] == 0
    assert dataset_names(client, in_workspace("team-c")) == []
    assert dataset_names(client, {}) == []  # no header: the default workspace


def test_another_workspaces_dataset_cannot_be_seen_changed_or_deleted(client):
    team_a, team_b = in_workspace("team-a"), in_workspace("team-b")
    theirs = create_dataset(client, "private to a", headers=team_a)
    item_id = add_item(client, theirs, team_a, {"secret": 1})

    refused = [
        client.get(f"{API}/datasets/{theirs}", headers=team_b),
        client.get(f"{API}/datasets/{theirs}/items", headers=team_b),
        client.get(f"{API}/datasets/{theirs}/versions", headers=team_b),
        client.get(f"{API}/datasets/items/{item_id}", headers=team_b),
        client.patch(
            f"{API}/datasets/items/{item_id}", json={"data": {"secret": 2}}, headers=team_b
        ),
        client.put(f"{API}/datasets/{theirs}", json={"name": "taken over"}, headers=team_b),
        client.put(
            f"{API}/datasets/items",
            json={"dataset_id": theirs, "items": [{"data": {}}]},
            headers=team_b,
        ),
        client.post(
            f"{API}/datasets/retrieve", json={"dataset_name": "private to a"}, headers=team_b
        ),
        client.post(
            f"{API}/datasets/delete", json={"dataset_name": "private to a"}, headers=team_b
        ),
        client.post(
            f"{API}/datasets/items/stream", json={"dataset_name": "private to a"}, headers=team_b
        ),
    ]
    # Deletes by id answer 204 whether or not the id exists (as in Opik), and do nothing.
    deletes = [
        client.delete(f"{API}/datasets/{theirs}", headers=team_b),
        client.post(f"{API}/datasets/delete-batch", json={"ids": [theirs]}, headers=team_b),
        client.post(f"{API}/datasets/items/delete", json={"item_ids": [item_id]}, headers=team_b),
    ]

    assert [response.status_code for response in refused] == [404] * len(refused)
    assert [response.status_code for response in deletes] == [204] * len(deletes)
    assert all("errors" in response.json() for response in refused)
    dataset = client.get(f"{API}/datasets/{theirs}", headers=team_a).json()
    assert (dataset["name"], dataset["dataset_items_count"]) == ("private to a", 1)
    assert client.get(f"{API}/datasets/items/{item_id}", headers=team_a).json()["data"] == {
        "secret": 1
    }
    assert dataset_names(client, team_b) == []


def test_a_client_chosen_id_taken_in_another_workspace_is_a_conflict(client):
    chosen = str(uuid.uuid4())
    client.post(
        f"{API}/datasets", json={"name": "mine", "id": chosen}, headers=in_workspace("team-a")
    )

    response = client.post(
        f"{API}/datasets", json={"name": "mine", "id": chosen}, headers=in_workspace("team-b")
    )

    assert response.status_code == 409
    assert dataset_names(client, in_workspace("team-b")) == []


# -- API keys -------------------------------------------------------------------------------


@pytest.fixture
def secured(database_url, database, tmp_path):
    """The app as a server that requires API keys, over the test database."""
    settings = Settings(database_url=database_url, auth="required", home=tmp_path)
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def make_key(database, *workspaces: str) -> keys.CreatedKey:
    with database.writing() as connection:
        return keys.create_key(connection, "ci", list(workspaces))


def test_without_a_key_every_data_route_is_a_401_but_liveness_answers(secured):
    responses = [
        secured.get(f"{API}/datasets"),
        secured.post(f"{API}/datasets", json={"name": "x"}),
        secured.post(f"{API}/datasets/retrieve", json={"dataset_name": "x"}),
        secured.get(f"/api{API}/datasets", headers={"Authorization": ""}),
    ]

    for response in responses:
        assert response.status_code == 401
        assert response.json()["code"] == 401 and response.json()["message"]
    assert secured.get("/is-alive/ping").status_code == 200
    assert secured.get("/api/is-alive/ver").status_code == 200


def test_a_wrong_key_is_a_401_and_writes_nothing(secured, database):
    created = make_key(database, "team-a")

    response = secured.post(
        f"{API}/datasets", json={"name": "x"}, headers=in_workspace("team-a", "sb_not-a-real-key")
    )

    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert dataset_names(secured, in_workspace("team-a", created.secret)) == []


@pytest.mark.parametrize("scheme", ["", "Bearer ", "bearer "])
def test_a_key_works_raw_as_opik_sends_it_and_as_a_bearer_token(secured, database, scheme):
    created = make_key(database, "team-a")
    headers = in_workspace("team-a", scheme + created.secret)

    dataset_id = create_dataset(secured, "with a key", headers=headers)

    assert secured.get(f"{API}/datasets/{dataset_id}", headers=headers).json()["created_by"] == "ci"
    assert dataset_names(secured, headers) == ["with a key"]


def test_a_key_bound_to_one_workspace_uses_it_when_none_is_named(secured, database):
    created = make_key(database, "team-a")
    create_dataset(secured, "a's", headers=in_workspace("team-a", created.secret))

    assert dataset_names(secured, {"Authorization": created.secret}) == ["a's"]


def test_a_key_is_refused_for_a_workspace_it_is_not_bound_to(secured, database):
    key_a = make_key(database, "team-a")
    key_b = make_key(database, "team-b")
    theirs = create_dataset(secured, "b's", headers=in_workspace("team-b", key_b.secret))

    listing = secured.get(f"{API}/datasets", headers=in_workspace("team-b", key_a.secret))
    reading = secured.get(f"{API}/datasets/{theirs}", headers=in_workspace("team-b", key_a.secret))
    deleting = secured.delete(
        f"{API}/datasets/{theirs}", headers=in_workspace("team-b", key_a.secret)
    )

    assert [r.status_code for r in (listing, reading, deleting)] == [401, 401, 401]
    assert "team-b" in listing.json()["message"]
    assert dataset_names(secured, in_workspace("team-b", key_b.secret)) == ["b's"]


def test_inside_its_own_workspace_a_key_gets_404_for_another_workspaces_ids(secured, database):
    key_a = make_key(database, "team-a")
    key_b = make_key(database, "team-b")
    theirs = create_dataset(secured, "b's", headers=in_workspace("team-b", key_b.secret))
    item_id = add_item(secured, theirs, in_workspace("team-b", key_b.secret), {"q": 1})

    as_a = in_workspace("team-a", key_a.secret)
    by_id = secured.get(f"{API}/datasets/{theirs}", headers=as_a)
    item = secured.get(f"{API}/datasets/items/{item_id}", headers=as_a)
    never_created = secured.get(f"{API}/datasets/{uuid.uuid4()}", headers=as_a)

    assert (by_id.status_code, item.status_code) == (404, 404)
    assert by_id.json() == never_created.json() == {"errors": ["Dataset not found"]}


def test_a_key_bound_to_two_workspaces_opens_both_but_keeps_them_apart(secured, database):
    both = make_key(database, "team-a", "team-b")
    a = create_dataset(secured, "shared name", headers=in_workspace("team-a", both.secret))
    create_dataset(secured, "shared name", headers=in_workspace("team-b", both.secret))

    from_b = secured.get(f"{API}/datasets/{a}", headers=in_workspace("team-b", both.secret))
    unnamed = secured.get(f"{API}/datasets", headers={"Authorization": both.secret})

    assert from_b.status_code == 404
    assert dataset_names(secured, in_workspace("team-a", both.secret)) == ["shared name"]
    # With two workspaces open, the request must say which one: the default is not among them.
    assert unnamed.status_code == 401


def test_a_revoked_key_is_a_401(secured, database):
    created = make_key(database, "team-a")
    headers = in_workspace("team-a", created.secret)
    assert secured.get(f"{API}/datasets", headers=headers).status_code == 200

    with database.writing() as connection:
        keys.revoke_key(connection, created.key.id)

    response = secured.get(f"{API}/datasets", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_local_mode_needs_no_key_and_ignores_one(client):
    response = client.post(
        f"{API}/datasets", json={"name": "local"}, headers={"Authorization": "anything"}
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("host", "auth", "required"),
    [
        ("127.0.0.1", "auto", False),
        ("localhost", "auto", False),
        ("::1", "auto", False),
        ("0.0.0.0", "auto", True),
        ("192.168.1.20", "auto", True),
        ("example.com", "auto", True),
        ("0.0.0.0", "off", False),
        ("127.0.0.1", "required", True),
    ],
)
def test_keys_are_required_unless_the_server_only_listens_on_loopback(
    host, auth, required, tmp_path
):
    assert Settings(host=host, auth=auth, home=tmp_path).requires_api_key is required
