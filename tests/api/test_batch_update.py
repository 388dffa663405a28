"""PATCH /v1/private/datasets/items/batch: one change applied to many items, as one version."""

API = "/v1/private"


def _dataset_with_items(client, items):
    client.put(
        f"{API}/datasets/items", json={"dataset_name": "batch", "items": items}
    ).raise_for_status()
    return client.post(f"{API}/datasets/retrieve", json={"dataset_name": "batch"}).json()["id"]


def _items_by_question(client, dataset_id):
    content = client.get(f"{API}/datasets/{dataset_id}/items", params={"size": 100}).json()[
        "content"
    ]
    return {item["data"]["q"]: item for item in content}


def test_update_by_filters_merges_data_and_tags_into_matching_items_only(client):
    dataset_id = _dataset_with_items(
        client,
        [
            {"data": {"q": "small", "n": 3}, "tags": ["keep"]},
            {"data": {"q": "big", "n": 50}, "tags": ["keep", "old"]},
        ],
    )
    response = client.patch(
        f"{API}/datasets/items/batch",
        json={
            "dataset_id": dataset_id,
            "filters": [{"field": "data", "key": "n", "operator": ">", "value": "10"}],
            "update": {
                "data": {"reviewed": True},
                "tags_to_add": ["large"],
                "tags_to_remove": ["old"],
            },
        },
    )
    assert response.status_code == 204
    found = _items_by_question(client, dataset_id)
    assert found["big"]["data"] == {"q": "big", "n": 50, "reviewed": True}
    assert sorted(found["big"]["tags"]) == ["keep", "large"]
    assert found["small"]["data"] == {"q": "small", "n": 3}
    versions = client.get(f"{API}/datasets/{dataset_id}/versions").json()["content"]
    assert [(v["version_name"], v["items_modified"]) for v in versions] == [("v2", 1), ("v1", 0)]


def test_update_by_ids_replaces_tags_unless_merging(client):
    dataset_id = _dataset_with_items(
        client, [{"data": {"q": "a"}, "tags": ["one"]}, {"data": {"q": "b"}, "tags": ["two"]}]
    )
    found = _items_by_question(client, dataset_id)
    ids = [found["a"]["id"], found["b"]["id"]]
    client.patch(
        f"{API}/datasets/items/batch", json={"ids": ids, "update": {"tags": ["fresh"]}}
    ).raise_for_status()
    assert {q: item["tags"] for q, item in _items_by_question(client, dataset_id).items()} == {
        "a": ["fresh"],
        "b": ["fresh"],
    }
    client.patch(
        f"{API}/datasets/items/batch",
        json={"ids": ids[:1], "update": {"tags": ["more"]}, "merge_tags": True},
    ).raise_for_status()
    assert _items_by_question(client, dataset_id)["a"]["tags"] == ["fresh", "more"]


def test_update_without_a_target_is_a_bad_request_and_changes_nothing(client):
    dataset_id = _dataset_with_items(client, [{"data": {"q": "a"}}])
    response = client.patch(f"{API}/datasets/items/batch", json={"update": {"data": {"x": 1}}})
    assert response.status_code == 400
    assert "dataset_id" in response.json()["message"]
    assert _items_by_question(client, dataset_id)["a"]["data"] == {"q": "a"}
