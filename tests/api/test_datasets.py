"""Datasets over HTTP: create, read, find, rename, delete, on both path prefixes."""

import uuid

import pytest

from tests.api.opik_http import API, create_dataset, get_json, put_items

PREFIXES = ["/v1/private", "/api/v1/private"]


def add_items(client, dataset_id: str, count: int) -> None:
    put_items(client, dataset_id, [{"data": {"n": n}} for n in range(count)])


def find(client, prefix: str = API, **params) -> dict:
    return get_json(client, f"{prefix}/datasets", **params)


def names(page: dict) -> list[str]:
    return [dataset["name"] for dataset in page["content"]]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_create_answers_201_with_a_location_that_can_be_read(client, prefix):
    response = client.post(
        f"{prefix}/datasets",
        json={"name": "support questions", "description": "from the help desk", "tags": ["b", "a"]},
    )

    assert response.status_code == 201
    assert response.content == b""
    location = response.headers["location"]
    assert location == f"{prefix}/datasets/{location.rsplit('/', 1)[1]}"
    dataset = client.get(f"{prefix}/datasets/{location.rsplit('/', 1)[1]}").json()
    assert dataset["name"] == "support questions"
    assert dataset["description"] == "from the help desk"
    assert dataset["tags"] == ["a", "b"]
    assert dataset["type"] == "dataset"
    assert dataset["visibility"] == "private"
    assert dataset["dataset_items_count"] == 0
    assert dataset["created_at"].endswith("Z")


def test_a_client_chosen_id_is_kept(client):
    chosen = str(uuid.uuid4())

    dataset_id = create_dataset(client, "mine", id=chosen)

    assert dataset_id == chosen
    assert client.get(f"{API}/datasets/{chosen}").json()["id"] == chosen


def test_a_second_dataset_with_the_same_name_is_a_409_and_is_not_stored(client):
    first = create_dataset(client, "qa")

    response = client.post(f"{API}/datasets", json={"name": "qa", "description": "again"})

    assert response.status_code == 409
    assert response.json()["errors"] and "qa" in response.json()["errors"][0]
    page = find(client)
    assert page["total"] == 1
    assert page["content"][0]["id"] == first
    assert "description" not in page["content"][0]


def test_reusing_another_datasets_id_is_a_409(client):
    taken = create_dataset(client, "first")

    response = client.post(f"{API}/datasets", json={"name": "second", "id": taken})

    assert response.status_code == 409
    assert names(find(client)) == ["first"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_retrieve_by_name_finds_the_dataset_and_404s_for_a_missing_one(client, prefix):
    dataset_id = create_dataset(client, "evaluation set", prefix)

    found = client.post(f"{prefix}/datasets/retrieve", json={"dataset_name": "evaluation set"})
    missing = client.post(f"{prefix}/datasets/retrieve", json={"dataset_name": "no such set"})

    assert found.status_code == 200
    assert found.json()["id"] == dataset_id
    assert missing.status_code == 404
    assert missing.json() == {"errors": ["Dataset not found"]}


def test_a_padded_name_is_stored_trimmed_and_found_as_sent(client):
    """What the Opik client's get-or-create does: retrieve, and create only on a 404."""
    dataset_id = create_dataset(client, "  padded  ")

    found = client.post(f"{API}/datasets/retrieve", json={"dataset_name": "  padded  "})
    streamed = client.post(f"{API}/datasets/items/stream", json={"dataset_name": "  padded  "})
    deleted = client.post(f"{API}/datasets/delete", json={"dataset_name": "  padded  "})

    assert (found.status_code, found.json()["id"], found.json()["name"]) == (
        200,
        dataset_id,
        "padded",
    )
    assert streamed.status_code == 200
    assert deleted.status_code == 204
    assert find(client)["total"] == 0


def test_get_by_id_reports_items_count_and_latest_version(client):
    dataset_id = create_dataset(client, "counted")
    add_items(client, dataset_id, 3)

    dataset = client.get(f"{API}/datasets/{dataset_id}").json()
    missing = client.get(f"{API}/datasets/{uuid.uuid4()}")

    assert dataset["dataset_items_count"] == 3
    assert dataset["latest_version"]["version_name"] == "v1"
    assert len(dataset["latest_version"]["version_hash"]) > 0
    assert missing.status_code == 404
    assert missing.json() == {"errors": ["Dataset not found"]}


def test_find_pages_until_content_is_empty_and_sees_each_dataset_once(client):
    created = {create_dataset(client, f"set-{n}") for n in range(7)}

    seen: list[str] = []
    page_number = 1
    while True:
        page = find(client, page=page_number, size=3)
        assert page["total"] == 7
        assert page["page"] == page_number
        if not page["content"]:
            break
        assert page["size"] == len(page["content"]) <= 3
        seen += [dataset["id"] for dataset in page["content"]]
        page_number += 1

    assert page_number == 4
    assert sorted(seen) == sorted(created)


def test_find_lists_newest_first_by_default(client):
    for name in ("older", "middle", "newest"):
        create_dataset(client, name)

    assert names(find(client)) == ["newest", "middle", "older"]


def test_find_by_name_is_partial_and_case_insensitive(client):
    for name in ("Customer Support", "support-v2", "Sales", "100%_done"):
        create_dataset(client, name)

    assert sorted(names(find(client, name="SUPPORT"))) == ["Customer Support", "support-v2"]
    assert find(client, name="SUPPORT")["total"] == 2
    assert names(find(client, name="0%_")) == ["100%_done"]
    assert names(find(client, name="%")) == ["100%_done"]
    assert find(client, name="nothing like it")["content"] == []


def test_find_sorts_by_name_both_ways(client):
    for name in ("bravo", "alpha", "charlie"):
        create_dataset(client, name)

    ascending = find(client, sorting=[{"field": "name", "direction": "ASC"}])
    descending = find(client, sorting=[{"field": "name", "direction": "DESC"}])

    assert names(ascending) == ["alpha", "bravo", "charlie"]
    assert names(descending) == ["charlie", "bravo", "alpha"]
    assert "name" in ascending["sortableBy"] and "dataset_items_count" in ascending["sortableBy"]


def test_find_sorts_by_items_count_numerically(client):
    for name, count in (("ten", 10), ("none", 0), ("nine", 9), ("two", 2)):
        dataset_id = create_dataset(client, name)
        if count:
            add_items(client, dataset_id, count)

    descending = find(client, sorting=[{"field": "dataset_items_count", "direction": "DESC"}])
    ascending = find(client, sorting=[{"field": "dataset_items_count", "direction": "ASC"}])

    assert names(descending) == ["ten", "nine", "two", "none"]
    assert names(ascending) == ["none", "two", "nine", "ten"]


def test_find_filters_on_name_tags_and_items_count(client):
    create_dataset(client, "Refund questions", tags=["billing", "gold"])
    create_dataset(client, "refund edge cases", tags=["billing"])
    add_items(client, create_dataset(client, "Shipping", tags=["logistics"]), 4)

    def filtered(*filters: dict) -> list[str]:
        return sorted(names(find(client, filters=list(filters))))

    assert filtered({"field": "name", "operator": "contains", "value": "REFUND"}) == [
        "Refund questions",
        "refund edge cases",
    ]
    assert filtered({"field": "tags", "operator": "contains", "value": "gold"}) == [
        "Refund questions"
    ]
    assert filtered({"field": "tags", "operator": "not_contains", "value": "billing"}) == [
        "Shipping"
    ]
    assert filtered({"field": "dataset_items_count", "operator": ">", "value": "3"}) == ["Shipping"]
    assert filtered(
        {"field": "tags", "operator": "contains", "value": "billing"},
        {"field": "name", "operator": "starts_with", "value": "refund e"},
    ) == ["refund edge cases"]
    assert (
        find(client, filters=[{"field": "name", "operator": "=", "value": "Shipping"}])["total"]
        == 1
    )


@pytest.mark.parametrize("prefix", PREFIXES)
def test_update_renames_and_retags_with_204(client, prefix):
    dataset_id = create_dataset(client, "draft name", tags=["old"])

    response = client.put(
        f"{prefix}/datasets/{dataset_id}",
        json={"name": "final name", "description": "ready", "tags": ["new", "reviewed"]},
    )

    assert response.status_code == 204
    dataset = client.get(f"{API}/datasets/{dataset_id}").json()
    assert (dataset["name"], dataset["description"], dataset["tags"]) == (
        "final name",
        "ready",
        ["new", "reviewed"],
    )
    assert (
        client.post(f"{API}/datasets/retrieve", json={"dataset_name": "draft name"}).status_code
        == 404
    )
    assert (
        client.post(f"{API}/datasets/retrieve", json={"dataset_name": "final name"}).json()["id"]
        == dataset_id
    )


def test_update_to_a_name_that_is_taken_is_a_409_and_changes_nothing(client):
    create_dataset(client, "taken")
    dataset_id = create_dataset(client, "mine")

    response = client.put(
        f"{API}/datasets/{dataset_id}", json={"name": "taken", "description": "x"}
    )

    assert response.status_code == 409
    assert "errors" in response.json()
    assert client.get(f"{API}/datasets/{dataset_id}").json()["name"] == "mine"


def test_update_of_a_missing_dataset_is_a_404(client):
    response = client.put(f"{API}/datasets/{uuid.uuid4()}", json={"name": "anything"})

    assert response.status_code == 404
    assert find(client)["total"] == 0


@pytest.mark.parametrize("prefix", PREFIXES)
def test_delete_by_id_removes_the_dataset_and_its_items(client, prefix):
    dataset_id = create_dataset(client, "doomed")
    add_items(client, dataset_id, 2)
    kept = create_dataset(client, "kept")

    response = client.delete(f"{prefix}/datasets/{dataset_id}")

    assert response.status_code == 204
    assert client.get(f"{API}/datasets/{dataset_id}").status_code == 404
    assert client.get(f"{API}/datasets/{dataset_id}/items").status_code == 404
    assert [dataset["id"] for dataset in find(client)["content"]] == [kept]
    # Deleting again is not an error: the outcome is the same.
    assert client.delete(f"{prefix}/datasets/{dataset_id}").status_code == 204


def test_a_deleted_name_can_be_used_again(client):
    old = create_dataset(client, "reused")
    client.delete(f"{API}/datasets/{old}")

    new = create_dataset(client, "reused")

    assert new != old
    assert client.get(f"{API}/datasets/{new}").json()["dataset_items_count"] == 0


@pytest.mark.parametrize("prefix", PREFIXES)
def test_delete_by_name(client, prefix):
    create_dataset(client, "by name")
    create_dataset(client, "other")

    response = client.post(f"{prefix}/datasets/delete", json={"dataset_name": "by name"})
    missing = client.post(f"{prefix}/datasets/delete", json={"dataset_name": "by name"})

    assert response.status_code == 204
    assert missing.status_code == 404
    assert missing.json() == {"errors": ["Dataset not found"]}
    assert names(find(client)) == ["other"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_delete_batch_removes_only_the_listed_datasets(client, prefix):
    ids = [create_dataset(client, f"batch-{n}") for n in range(4)]

    response = client.post(
        f"{prefix}/datasets/delete-batch", json={"ids": [ids[0], ids[2], str(uuid.uuid4())]}
    )

    assert response.status_code == 204
    assert sorted(names(find(client))) == ["batch-1", "batch-3"]


def test_both_prefixes_serve_the_same_data(client):
    dataset_id = create_dataset(client, "shared", "/api/v1/private")
    add_items(client, dataset_id, 2)

    plain = client.get(f"/v1/private/datasets/{dataset_id}").json()
    prefixed = client.get(f"/api/v1/private/datasets/{dataset_id}").json()

    assert plain == prefixed
    assert names(find(client, "/api/v1/private")) == ["shared"]
    assert client.get("/api/is-alive/ping").status_code == 200
    assert client.get("/is-alive/ping").status_code == 200
