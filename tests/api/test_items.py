"""Dataset items over HTTP: upsert, stream, list, filter, sort, patch, delete, import."""

import gzip
import json
import uuid

import pytest

from tests.api.opik_http import API, create_dataset, get_json, put_items


def list_items(client, dataset_id: str, **params) -> dict:
    return get_json(client, f"{API}/datasets/{dataset_id}/items", **params)


def versions(client, dataset_id: str) -> list[dict]:
    response = client.get(f"{API}/datasets/{dataset_id}/versions", params={"size": 100})
    assert response.status_code == 200, response.text
    return response.json()["content"]


def stream(client, name: str, **body) -> list[dict]:
    response = client.post(f"{API}/datasets/items/stream", json={"dataset_name": name, **body})
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_upsert_keeps_client_ids_and_stores_every_field(client):
    dataset_id = create_dataset(client)
    item_id, trace_id = str(uuid.uuid4()), str(uuid.uuid4())

    put_items(
        client,
        dataset_id,
        [
            {
                "id": item_id,
                "data": {"question": "Where is my order?", "nested": {"k": [1, 2]}},
                "source": "trace",
                "trace_id": trace_id,
                "tags": ["shipping"],
                "description": "a classic",
            }
        ],
    )

    item = client.get(f"{API}/datasets/items/{item_id}").json()
    assert item["id"] == item["dataset_item_id"] == item_id
    assert item["dataset_id"] == dataset_id
    assert item["data"] == {"question": "Where is my order?", "nested": {"k": [1, 2]}}
    assert (item["source"], item["trace_id"], item["tags"], item["description"]) == (
        "trace",
        trace_id,
        ["shipping"],
        "a classic",
    )


def test_ids_in_any_uuid_spelling_are_stored_in_canonical_form(client):
    dataset_id = create_dataset(client)
    item_id, trace_id = uuid.uuid4(), uuid.uuid4()

    put_items(
        client,
        dataset_id,
        [{"id": str(item_id).upper(), "trace_id": f"{{{trace_id}}}", "data": {"q": 1}}],
    )
    put_items(
        client, dataset_id, [{"id": item_id.hex, "trace_id": str(trace_id), "data": {"q": 1}}]
    )

    item = client.get(f"{API}/datasets/items/{item_id}").json()
    assert (item["id"], item["trace_id"]) == (str(item_id), str(trace_id))
    assert len(versions(client, dataset_id)) == 1  # the same item again: no new version
    assert list_items(client, dataset_id)["total"] == 1


def test_upsert_by_dataset_name_creates_the_dataset(client):
    response = client.put(
        f"{API}/datasets/items", json={"dataset_name": "fresh", "items": [{"data": {"a": 1}}]}
    )

    assert response.status_code == 204
    found = client.post(f"{API}/datasets/retrieve", json={"dataset_name": "fresh"}).json()
    assert found["dataset_items_count"] == 1


def test_resending_identical_items_creates_no_version_and_one_change_makes_one(client):
    dataset_id = create_dataset(client)
    items = [{"id": str(uuid.uuid4()), "data": {"n": n}} for n in range(3)]
    put_items(client, dataset_id, items)

    put_items(client, dataset_id, items)
    assert len(versions(client, dataset_id)) == 1

    put_items(client, dataset_id, [items[0], {**items[1], "data": {"n": 100}}, items[2]])
    newest = versions(client, dataset_id)[0]
    assert (newest["version_name"], newest["items_modified"], newest["items_added"]) == ("v2", 1, 0)
    assert newest["items_total"] == 3
    assert client.get(f"{API}/datasets/items/{items[1]['id']}").json()["data"] == {"n": 100}


def test_puts_sharing_a_batch_group_id_land_in_one_version(client):
    dataset_id = create_dataset(client)
    group = str(uuid.uuid4())

    for batch in range(3):
        put_items(
            client,
            dataset_id,
            [{"data": {"batch": batch, "n": n}} for n in range(4)],
            batch_group_id=group,
        )

    found = versions(client, dataset_id)
    assert len(found) == 1
    assert (found[0]["items_total"], found[0]["items_added"]) == (12, 12)
    put_items(client, dataset_id, [{"data": {"later": True}}], batch_group_id=str(uuid.uuid4()))
    found = versions(client, dataset_id)
    assert [v["version_name"] for v in found] == ["v2", "v1"]
    assert (found[0]["items_total"], found[0]["items_added"]) == (13, 1)


def test_stream_is_newest_first_and_pages_with_a_cursor_covering_every_item_once(client):
    dataset_id = create_dataset(client, "streamed")
    ids = [str(uuid.uuid4()) for _ in range(25)]
    put_items(
        client, dataset_id, [{"id": item_id, "data": {"i": i}} for i, item_id in enumerate(ids)]
    )

    pages, cursor = [], None
    while True:
        page = stream(
            client, "streamed", steam_limit=10, **({"last_retrieved_id": cursor} if cursor else {})
        )
        if not page:
            break
        pages.append(page)
        cursor = page[-1]["id"]

    assert [len(page) for page in pages] == [10, 10, 5]
    streamed = [item["id"] for page in pages for item in page]
    assert streamed == sorted(ids, reverse=True)
    assert [item["id"] for item in stream(client, "streamed")] == streamed


def test_stream_of_a_missing_dataset_is_a_404(client):
    response = client.post(f"{API}/datasets/items/stream", json={"dataset_name": "nowhere"})

    assert response.status_code == 404
    assert response.json() == {"errors": ["Dataset not found"]}


def test_items_without_ids_are_listed_newest_first_in_the_order_sent(client):
    dataset_id = create_dataset(client)

    put_items(client, dataset_id, [{"data": {"n": n}} for n in range(30)])

    newest_first = [
        item["data"]["n"] for item in list_items(client, dataset_id, size=100)["content"]
    ]
    assert newest_first == list(range(29, -1, -1))
    assert [item["data"]["n"] for item in stream(client, "items")] == newest_first


def test_list_pages_with_total_columns_and_sortable_fields(client):
    dataset_id = create_dataset(client)
    put_items(client, dataset_id, [{"data": {"question": f"q{n}", "score": n}} for n in range(11)])
    put_items(client, dataset_id, [{"data": {"question": 12, "flag": True}}])

    pages = [list_items(client, dataset_id, page=page, size=5) for page in (1, 2, 3, 4)]

    assert [page["total"] for page in pages] == [12] * 4
    assert [page["size"] for page in pages] == [5, 5, 2, 0]
    assert pages[3]["content"] == []
    ids = [item["id"] for page in pages for item in page["content"]]
    assert len(set(ids)) == 12
    columns = {column["name"]: column["types"] for column in pages[0]["columns"]}
    assert columns == {"flag": ["boolean"], "question": ["number", "string"], "score": ["number"]}
    assert {"data.question", "data.score", "data.flag", "id", "created_at"} <= set(
        pages[0]["sortableBy"]
    )


# Labelled items to filter and sort: numbers that order differently as text (9 < 10 < 100).
ROWS = {
    "A": ({"name": "Apple pie", "n": 10}, ["fruit", "dessert"]),
    "B": ({"name": "banana", "n": 9}, ["fruit"]),
    "C": ({"name": "cherry tart", "n": 100}, []),
    "D": ({"name": "", "n": 2.5}, ["dessert"]),
    "E": ({"n": -1}, []),
}


@pytest.fixture
def labelled(client) -> str:
    dataset_id = create_dataset(client, "labelled")
    put_items(
        client,
        dataset_id,
        [{"data": {"label": label, **data}, "tags": tags} for label, (data, tags) in ROWS.items()],
    )
    return dataset_id


def labels(page: dict) -> list[str]:
    return [item["data"]["label"] for item in page["content"]]


@pytest.mark.parametrize(
    ("field", "key", "operator", "value", "expected"),
    [
        ("data", "name", "contains", "AN", "B"),
        ("data", "name", "not_contains", "e", "BDE"),
        ("data", "name", "starts_with", "app", "A"),
        ("data", "name", "ends_with", "TART", "C"),
        ("data", "name", "=", "banana", "B"),
        ("data", "name", "!=", "banana", "ACDE"),
        ("data", "name", ">", "c", "C"),
        ("data", "name", "is_empty", None, "DE"),
        ("data", "name", "is_not_empty", None, "ABC"),
        ("data", "n", ">", "9", "AC"),
        ("data", "n", ">=", "10", "AC"),
        ("data", "n", "<", "9", "DE"),
        ("data", "n", "<=", "9", "BDE"),
        ("data", "n", "=", "10", "A"),
        ("data", "n", "=", "2.5", "D"),
        ("data", "n", "!=", "10", "BCDE"),
        ("data.n", None, ">", "-1", "ABCD"),
        ("tags", None, "contains", "dessert", "AD"),
        ("tags", None, "not_contains", "fruit", "CDE"),
        ("tags", None, "is_empty", None, "CE"),
        ("tags", None, "is_not_empty", None, "ABD"),
    ],
)
def test_filters_apply_every_operator(client, labelled, field, key, operator, value, expected):
    entry = {"field": field, "operator": operator, **({"key": key} if key else {}), "value": value}

    page = list_items(client, labelled, filters=[entry])

    assert sorted(labels(page)) == list(expected)
    assert page["total"] == len(expected)


def test_filters_combine_with_and_and_apply_to_the_stream(client, labelled):
    filters = [
        {"field": "tags", "operator": "contains", "value": "fruit"},
        {"field": "data", "key": "n", "operator": ">", "value": "9"},
    ]

    assert labels(list_items(client, labelled, filters=filters)) == ["A"]
    streamed = stream(client, "labelled", filters=json.dumps(filters))
    assert [item["data"]["label"] for item in streamed] == ["A"]


@pytest.mark.parametrize(
    ("sort_field", "direction", "expected"),
    [
        ("data.n", "ASC", "EDBAC"),
        ("data.n", "DESC", "CABDE"),
        ("data.name", "ASC", "DABCE"),
        ("data.name", "DESC", "CBADE"),
    ],
)
def test_sorting_by_a_data_key_orders_numbers_numerically(
    client, labelled, sort_field, direction, expected
):
    page = list_items(client, labelled, sorting=[{"field": sort_field, "direction": direction}])

    assert "".join(labels(page)) == expected


def test_truncate_shortens_long_values_in_the_list_only(client):
    dataset_id = create_dataset(client)
    item_id = str(uuid.uuid4())
    put_items(client, dataset_id, [{"id": item_id, "data": {"image": "x" * 20_000, "short": "ok"}}])

    truncated = list_items(client, dataset_id, truncate="true")["content"][0]["data"]
    full = list_items(client, dataset_id)["content"][0]["data"]

    assert truncated["short"] == "ok"
    assert len(truncated["image"]) < 20_000 and truncated["image"].startswith("x" * 1000)
    assert full["image"] == "x" * 20_000
    assert client.get(f"{API}/datasets/items/{item_id}").json()["data"]["image"] == "x" * 20_000


def test_patch_replaces_only_the_given_fields_as_a_new_version(client):
    dataset_id = create_dataset(client)
    item_id = str(uuid.uuid4())
    put_items(client, dataset_id, [{"id": item_id, "data": {"q": "old"}, "tags": ["keep"]}])

    response = client.patch(f"{API}/datasets/items/{item_id}", json={"data": {"q": "new"}})

    assert response.status_code == 204
    item = client.get(f"{API}/datasets/items/{item_id}").json()
    assert (item["data"], item["tags"]) == ({"q": "new"}, ["keep"])
    newest = versions(client, dataset_id)[0]
    assert (newest["version_name"], newest["items_modified"]) == ("v2", 1)


def test_get_and_patch_of_a_missing_item_are_404s(client):
    missing = str(uuid.uuid4())

    assert client.get(f"{API}/datasets/items/{missing}").status_code == 404
    response = client.patch(f"{API}/datasets/items/{missing}", json={"data": {"a": 1}})
    assert response.status_code == 404
    assert response.json() == {"errors": ["Dataset item not found"]}


def test_delete_by_item_ids(client):
    dataset_id = create_dataset(client)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    put_items(
        client, dataset_id, [{"id": item_id, "data": {"n": n}} for n, item_id in enumerate(ids)]
    )

    response = client.post(f"{API}/datasets/items/delete", json={"item_ids": ids[:2]})

    assert response.status_code == 204
    assert [item["id"] for item in list_items(client, dataset_id)["content"]] == [ids[2]]
    assert client.get(f"{API}/datasets/items/{ids[0]}").status_code == 404
    newest = versions(client, dataset_id)[0]
    assert (newest["items_deleted"], newest["items_total"]) == (2, 1)


def test_delete_by_dataset_and_filters_removes_only_matches(client, labelled):
    body = {
        "dataset_id": labelled,
        "filters": [{"field": "tags", "operator": "contains", "value": "fruit"}],
    }

    response = client.post(f"{API}/datasets/items/delete", json=body)

    assert response.status_code == 204
    assert sorted(labels(list_items(client, labelled))) == ["C", "D", "E"]


def test_delete_by_dataset_with_empty_filters_removes_every_item(client, labelled):
    other = create_dataset(client, "untouched")
    put_items(client, other, [{"data": {"a": 1}}])

    response = client.post(
        f"{API}/datasets/items/delete", json={"dataset_id": labelled, "filters": []}
    )

    assert response.status_code == 204
    assert list_items(client, labelled)["total"] == 0
    assert client.get(f"{API}/datasets/{labelled}").json()["dataset_items_count"] == 0
    assert list_items(client, other)["total"] == 1


def test_csv_upload_adds_one_item_per_row(client):
    dataset_id = create_dataset(client)
    csv_text = 'question,answer\nWhat is 2+2?,4\n"Say ""hi""",hi\n'

    response = client.post(
        f"{API}/datasets/items/from-csv",
        files={"file": ("qa.csv", csv_text.encode(), "text/csv")},
        data={"dataset_id": dataset_id},
    )

    assert response.status_code == 202
    page = list_items(client, dataset_id, sorting=[{"field": "id", "direction": "ASC"}])
    assert [item["data"] for item in page["content"]] == [
        {"question": "What is 2+2?", "answer": "4"},
        {"question": 'Say "hi"', "answer": "hi"},
    ]
    assert len(versions(client, dataset_id)) == 1


@pytest.mark.parametrize("file_format", ["json", "jsonl"])
def test_json_upload_splits_reserved_keys_from_data(client, file_format):
    dataset_id = create_dataset(client)
    item_id = str(uuid.uuid4())
    rows = [
        {"id": item_id, "question": "q1", "tags": ["imported"]},
        {"question": "q2", "expected": {"a": 1}},
    ]
    text = (
        json.dumps(rows)
        if file_format == "json"
        else "\n".join(json.dumps(row) for row in rows) + "\n"
    )

    response = client.post(
        f"{API}/datasets/items/from-json",
        files={"file": (f"rows.{file_format}", text.encode(), "application/json")},
        data={"dataset_id": dataset_id, "format": file_format},
    )

    assert response.status_code == 202
    item = client.get(f"{API}/datasets/items/{item_id}").json()
    assert (item["data"], item["tags"]) == ({"question": "q1"}, ["imported"])
    datas = [item["data"] for item in list_items(client, dataset_id)["content"]]
    assert {"question": "q2", "expected": {"a": 1}} in datas and len(datas) == 2


def test_a_gzip_compressed_body_is_accepted(client):
    dataset_id = create_dataset(client)
    body = {
        "dataset_id": dataset_id,
        "items": [{"data": {"text": "é" * 300, "n": n}} for n in range(20)],
    }

    response = client.put(
        f"{API}/datasets/items",
        content=gzip.compress(json.dumps(body).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )

    assert response.status_code == 204
    page = list_items(client, dataset_id, size=100)
    assert page["total"] == 20
    assert page["content"][0]["data"]["text"] == "é" * 300


def test_a_body_of_several_gzip_members_is_read_whole(client):
    dataset_id = create_dataset(client)
    raw = json.dumps(
        {"dataset_id": dataset_id, "items": [{"data": {"n": n}} for n in range(50)]}
    ).encode()
    middle = len(raw) // 2
    body = gzip.compress(raw[:middle]) + gzip.compress(raw[middle:])

    response = client.put(
        f"{API}/datasets/items",
        content=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )

    assert response.status_code == 204
    assert list_items(client, dataset_id, size=100)["total"] == 50


def _columns(client, dataset_id: str, **params) -> dict[str, list[str]]:
    page = list_items(client, dataset_id, **params)
    return {column["name"]: sorted(column["types"]) for column in page["columns"]}


def test_columns_follow_the_live_items(client):
    dataset_id = create_dataset(client)
    only_here, other = str(uuid.uuid4()), str(uuid.uuid4())
    put_items(
        client,
        dataset_id,
        [
            {"id": only_here, "data": {"q": "a", "rare": 1}},
            {"id": other, "data": {"q": "b", "score": 1}},
        ],
    )
    assert _columns(client, dataset_id) == {
        "q": ["string"],
        "rare": ["number"],
        "score": ["number"],
    }

    put_items(client, dataset_id, [{"id": other, "data": {"q": "b", "score": "high"}}])
    assert _columns(client, dataset_id)["score"] == ["string"]

    client.post(f"{API}/datasets/items/delete", json={"item_ids": [only_here]}).raise_for_status()
    assert _columns(client, dataset_id) == {"q": ["string"], "score": ["string"]}
    assert "data.rare" not in list_items(client, dataset_id)["sortableBy"]

    client.post(
        f"{API}/datasets/{dataset_id}/versions/restore", json={"version_ref": "v1"}
    ).raise_for_status()
    assert _columns(client, dataset_id) == {
        "q": ["string"],
        "rare": ["number"],
        "score": ["number"],
    }


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused_not_turned_into_null(client, number):
    dataset_id = create_dataset(client)
    body = f'{{"dataset_id": "{dataset_id}", "items": [{{"data": {{"score": {number}}}}}]}}'

    response = client.put(
        f"{API}/datasets/items", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422, response.text
    assert "finite" in response.json()["errors"][0]
    assert list_items(client, dataset_id)["total"] == 0


def test_a_dataset_grown_past_a_statistics_refresh_keeps_every_item(client):
    # 2,048 items is where the planner's statistics are first refreshed.
    dataset_id = create_dataset(client)
    items = [{"id": str(uuid.uuid4()), "data": {"n": number}} for number in range(2100)]
    for start in range(0, len(items), 1000):
        put_items(client, dataset_id, items[start : start + 1000])
    put_items(client, dataset_id, items[-10:])  # unchanged: no new version

    assert list_items(client, dataset_id, size=1)["total"] == 2100
    assert len(versions(client, dataset_id)) == 3
