"""Dataset versions over HTTP: history, pinned reads, names, tags, restore, diff."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.opik_http import API, create_dataset, put_items


def delete_items(client, item_ids: list[str]) -> None:
    response = client.post(f"{API}/datasets/items/delete", json={"item_ids": item_ids})
    assert response.status_code == 204, response.text


def versions(client, dataset_id: str, **params) -> dict:
    response = client.get(f"{API}/datasets/{dataset_id}/versions", params={"size": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def snapshot(client, dataset_id: str, version: str | None = None) -> dict[str, dict]:
    """item id -> data, for the live items or one version."""
    params = {"size": 1000, **({"version": version} if version else {})}
    response = client.get(f"{API}/datasets/{dataset_id}/items", params=params)
    assert response.status_code == 200, response.text
    return {item["id"]: item["data"] for item in response.json()["content"]}


@pytest.fixture
def history(client) -> dict:
    """A dataset with three versions: v1 adds a, b; v2 changes a and adds c; v3 deletes b."""
    dataset_id = create_dataset(client, "versioned")
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    put_items(
        client, dataset_id, [{"id": a, "data": {"text": "a1"}}, {"id": b, "data": {"text": "b1"}}]
    )
    put_items(
        client, dataset_id, [{"id": a, "data": {"text": "a2"}}, {"id": c, "data": {"text": "c1"}}]
    )
    delete_items(client, [b])
    listed = versions(client, dataset_id)["content"]
    return {
        "dataset_id": dataset_id,
        "ids": (a, b, c),
        "hashes": {version["version_name"]: version["version_hash"] for version in listed},
        "v1": {a: {"text": "a1"}, b: {"text": "b1"}},
        "v2": {a: {"text": "a2"}, b: {"text": "b1"}, c: {"text": "c1"}},
        "v3": {a: {"text": "a2"}, c: {"text": "c1"}},
    }


def test_versions_list_newest_first_with_counts(client, history):
    page = versions(client, history["dataset_id"])

    listed = [
        (
            v["version_name"],
            v["is_latest"],
            v["items_total"],
            v["items_added"],
            v["items_modified"],
            v["items_deleted"],
        )
        for v in page["content"]
    ]
    assert listed == [
        ("v3", True, 2, 0, 0, 1),
        ("v2", False, 3, 1, 1, 0),
        ("v1", False, 2, 2, 0, 0),
    ]
    assert page["total"] == 3
    assert len(set(history["hashes"].values())) == 3


def test_parallel_uploads_sharing_a_batch_group_make_one_version(client):
    """The Opik client uploads one insert as many batches at once, under one group id."""
    dataset_id = create_dataset(client)
    group = str(uuid.uuid4())

    def upload(batch: int) -> int:
        items = [{"data": {"batch": batch, "n": n}} for n in range(10)]
        body = {"dataset_id": dataset_id, "items": items, "batch_group_id": group}
        return client.put(f"{API}/datasets/items", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(upload, range(8)))

    assert statuses == [204] * 8
    listed = versions(client, dataset_id)
    assert [(v["version_name"], v["items_total"], v["items_added"]) for v in listed["content"]] == [
        ("v1", 80, 80)
    ]


def test_changes_undone_within_one_batch_group_net_out(client, history):
    """v4 is one batch group: it changes a and adds d, then deletes both."""
    dataset_id = history["dataset_id"]
    a, _, c = history["ids"]
    d, group = str(uuid.uuid4()), str(uuid.uuid4())
    changes = [{"id": a, "data": {"text": "a3"}}, {"id": d, "data": {"text": "d1"}}]
    client.put(
        f"{API}/datasets/items",
        json={"dataset_id": dataset_id, "items": changes, "batch_group_id": group},
    )

    client.post(f"{API}/datasets/items/delete", json={"item_ids": [a, d], "batch_group_id": group})

    newest = versions(client, dataset_id)["content"][0]
    assert (newest["version_name"], newest["items_total"]) == ("v4", 1)
    assert (newest["items_added"], newest["items_modified"], newest["items_deleted"]) == (0, 0, 1)
    assert snapshot(client, dataset_id) == {c: {"text": "c1"}}
    assert snapshot(client, dataset_id, "v3") == history["v3"]


def test_versions_page_and_answer_200_for_a_dataset_without_versions(client, history):
    first = versions(client, history["dataset_id"], page=1, size=1)
    second = versions(client, history["dataset_id"], page=2, size=1)
    empty = versions(client, create_dataset(client, "empty"), page=1, size=1)

    assert [v["version_name"] for v in first["content"]] == ["v3"]
    assert [v["version_name"] for v in second["content"]] == ["v2"]
    assert first["total"] == 3
    assert (empty["content"], empty["total"]) == ([], 0)


@pytest.mark.parametrize("name", ["v1", "v2", "v3"])
def test_reading_a_version_by_hash_or_name_returns_its_snapshot(client, history, name):
    dataset_id = history["dataset_id"]

    assert snapshot(client, dataset_id, history["hashes"][name]) == history[name]
    assert snapshot(client, dataset_id, name) == history[name]


def test_latest_reads_the_newest_version(client, history):
    assert snapshot(client, history["dataset_id"], "latest") == history["v3"]
    assert snapshot(client, history["dataset_id"]) == history["v3"]


def test_a_tag_pins_a_snapshot_through_later_edits(client, history):
    dataset_id = history["dataset_id"]
    a, _, c = history["ids"]
    tagged = client.post(
        f"{API}/datasets/{dataset_id}/versions/hash/{history['hashes']['v2']}/tags",
        json={"tag": "gold"},
    )
    put_items(client, dataset_id, [{"id": a, "data": {"text": "a3"}}])
    delete_items(client, [c])

    assert tagged.status_code == 204
    assert snapshot(client, dataset_id, "gold") == history["v2"]
    assert snapshot(client, dataset_id) == {a: {"text": "a3"}}


def test_the_stream_reads_a_pinned_version(client, history):
    response = client.post(
        f"{API}/datasets/items/stream",
        json={"dataset_name": "versioned", "dataset_version": history["hashes"]["v1"]},
    )

    streamed = {item["id"]: item["data"] for item in map(json.loads, response.text.splitlines())}
    assert streamed == history["v1"]


def test_reading_an_unknown_version_is_a_404(client, history):
    response = client.get(
        f"{API}/datasets/{history['dataset_id']}/items", params={"version": "v99"}
    )

    assert response.status_code == 404
    assert response.json()["errors"] and "v99" in response.json()["errors"][0]


def test_retrieve_by_name(client, history):
    url = f"{API}/datasets/{history['dataset_id']}/versions/retrieve"

    found = client.post(url, json={"version_name": "v1"})
    missing = client.post(url, json={"version_name": "v99"})
    malformed = client.post(url, json={"version_name": "first"})

    assert found.status_code == 200
    assert (found.json()["version_hash"], found.json()["is_latest"]) == (
        history["hashes"]["v1"],
        False,
    )
    assert missing.status_code == 404
    assert missing.json() == {"errors": ["Dataset version not found: 'v99'"]}
    assert malformed.status_code == 422
    assert "version_name" in malformed.json()["errors"][0]


def test_tags_show_in_the_list_and_can_be_removed(client, history):
    dataset_id, hashes = history["dataset_id"], history["hashes"]
    tags_url = f"{API}/datasets/{dataset_id}/versions/hash/{hashes['v1']}/tags"

    assert client.post(tags_url, json={"tag": "baseline"}).status_code == 204
    assert (
        client.post(tags_url, json={"tag": "baseline"}).status_code == 204
    )  # already there: same result
    assert client.post(tags_url, json={"tag": "reviewed"}).status_code == 204
    tagged = {v["version_name"]: v["tags"] for v in versions(client, dataset_id)["content"]}
    assert tagged == {"v3": [], "v2": [], "v1": ["baseline", "reviewed"]}

    removed = client.delete(f"{API}/datasets/{dataset_id}/versions/{hashes['v1']}/tags/baseline")

    assert removed.status_code == 204
    assert versions(client, dataset_id)["content"][2]["tags"] == ["reviewed"]
    assert (
        client.get(f"{API}/datasets/{dataset_id}/items", params={"version": "baseline"}).status_code
        == 404
    )


def test_a_tag_used_on_another_version_is_a_409_until_it_is_removed(client, history):
    dataset_id, hashes = history["dataset_id"], history["hashes"]
    client.post(
        f"{API}/datasets/{dataset_id}/versions/hash/{hashes['v1']}/tags", json={"tag": "prod"}
    )

    clash = client.post(
        f"{API}/datasets/{dataset_id}/versions/hash/{hashes['v2']}/tags", json={"tag": "prod"}
    )

    assert clash.status_code == 409
    assert "prod" in clash.json()["errors"][0]
    assert snapshot(client, dataset_id, "prod") == history["v1"]
    client.delete(f"{API}/datasets/{dataset_id}/versions/{hashes['v1']}/tags/prod")
    moved = client.post(
        f"{API}/datasets/{dataset_id}/versions/hash/{hashes['v2']}/tags", json={"tag": "prod"}
    )
    assert moved.status_code == 204
    assert snapshot(client, dataset_id, "prod") == history["v2"]


def test_tagging_an_unknown_hash_is_a_404(client, history):
    url = f"{API}/datasets/{history['dataset_id']}/versions/hash/0000000000000000/tags"

    response = client.post(url, json={"tag": "x"})

    assert response.status_code == 404
    assert "errors" in response.json()


def test_patch_changes_the_description_and_adds_tags(client, history):
    dataset_id, v2 = history["dataset_id"], history["hashes"]["v2"]

    response = client.patch(
        f"{API}/datasets/{dataset_id}/versions/hash/{v2}",
        json={"change_description": "fixed item a", "tags_to_add": ["checked", "release"]},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["version_hash"], body["change_description"], body["tags"]) == (
        v2,
        "fixed item a",
        ["checked", "release"],
    )
    listed = {v["version_name"]: v for v in versions(client, dataset_id)["content"]}
    assert listed["v2"]["change_description"] == "fixed item a"
    assert listed["v2"]["tags"] == ["checked", "release"]
    assert "change_description" not in listed["v1"]


def test_restore_makes_a_new_version_equal_to_the_old_one(client, history):
    dataset_id = history["dataset_id"]

    response = client.post(
        f"{API}/datasets/{dataset_id}/versions/restore", json={"version_ref": "v1"}
    )

    assert response.status_code == 200
    restored = response.json()
    assert (restored["version_name"], restored["is_latest"], restored["items_total"]) == (
        "v4",
        True,
        2,
    )
    assert "v1" in restored["change_description"]
    assert snapshot(client, dataset_id) == history["v1"]
    assert snapshot(client, dataset_id, "v4") == history["v1"]
    assert snapshot(client, dataset_id, "v3") == history["v3"]
    assert client.get(f"{API}/datasets/{dataset_id}").json()["dataset_items_count"] == 2
    newest = versions(client, dataset_id)["content"][0]
    assert (newest["items_added"], newest["items_modified"], newest["items_deleted"]) == (1, 1, 1)


def test_restore_by_hash_then_edit_keeps_history_intact(client, history):
    dataset_id = history["dataset_id"]
    a, b, _ = history["ids"]
    client.post(
        f"{API}/datasets/{dataset_id}/versions/restore",
        json={"version_ref": history["hashes"]["v2"]},
    )

    put_items(client, dataset_id, [{"id": b, "data": {"text": "b2"}}])

    assert snapshot(client, dataset_id, "v4") == history["v2"]
    assert snapshot(client, dataset_id)[b] == {"text": "b2"}
    assert snapshot(client, dataset_id, "v2") == history["v2"]
    assert snapshot(client, dataset_id, "v1")[a] == {"text": "a1"}


def test_restoring_the_latest_version_is_a_no_op_that_returns_it(client, history):
    dataset_id = history["dataset_id"]

    response = client.post(
        f"{API}/datasets/{dataset_id}/versions/restore", json={"version_ref": "latest"}
    )

    assert response.status_code == 200
    assert (response.json()["version_hash"], response.json()["version_name"]) == (
        history["hashes"]["v3"],
        "v3",
    )
    assert versions(client, dataset_id)["total"] == 3


def test_restoring_an_unknown_version_is_a_404_and_writes_nothing(client, history):
    dataset_id = history["dataset_id"]

    response = client.post(
        f"{API}/datasets/{dataset_id}/versions/restore", json={"version_ref": "v42"}
    )

    assert response.status_code == 404
    assert versions(client, dataset_id)["total"] == 3


def test_diff_compares_the_latest_version_with_the_draft(client, history):
    response = client.get(f"{API}/datasets/{history['dataset_id']}/versions/diff")

    assert response.status_code == 200
    assert response.json() == {
        "from_version": history["hashes"]["v3"],
        "to_version": "draft",
        "statistics": {"itemsAdded": 0, "itemsModified": 0, "itemsDeleted": 0, "itemsUnchanged": 2},
    }


def test_diff_of_a_dataset_without_versions(client):
    dataset_id = create_dataset(client, "blank")

    response = client.get(f"{API}/datasets/{dataset_id}/versions/diff")

    assert response.status_code == 200
    assert response.json()["statistics"] == {
        "itemsAdded": 0,
        "itemsModified": 0,
        "itemsDeleted": 0,
        "itemsUnchanged": 0,
    }
