"""Bad input gets a clear 4xx in Opik's error shapes, and never changes what is stored."""

import gzip
import json
import uuid

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.settings import Settings

API = "/v1/private"
ITEMS, ITEM = "/datasets/items", "/datasets/items/{item_id}"
VERSIONS = "/datasets/{dataset_id}/versions/"
TAGS_URL = VERSIONS + "hash/{version_hash}/tags"
JSON = {"Content-Type": "application/json"}
GZIP = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


@pytest.fixture
def seeded(client) -> dict:
    """A dataset with three items in one version; what every bad request must leave alone."""
    response = client.post(f"{API}/datasets", json={"name": "seeded"})
    dataset_id = response.headers["location"].rsplit("/", 1)[1]
    item_ids = [str(uuid.uuid4()) for _ in range(3)]
    items = [{"id": item_id, "data": {"n": n}, "tags": ["t"]} for n, item_id in enumerate(item_ids)]
    client.put(f"{API}/datasets/items", json={"dataset_id": dataset_id, "items": items})
    versions = client.get(f"{API}/datasets/{dataset_id}/versions").json()["content"]
    return {
        "dataset_id": dataset_id,
        "item_ids": item_ids,
        "version_hash": versions[0]["version_hash"],
    }


def stored(client, dataset_id: str) -> dict:
    """Everything a user could see change: datasets, the items and the version history."""
    datasets = client.get(f"{API}/datasets", params={"size": 100}).json()["content"]
    items = client.get(f"{API}/datasets/{dataset_id}/items", params={"size": 100}).json()["content"]
    versions = client.get(f"{API}/datasets/{dataset_id}/versions", params={"size": 100}).json()[
        "content"
    ]
    return {
        "datasets": sorted(
            (d["name"], d["dataset_items_count"], d.get("description")) for d in datasets
        ),
        "items": sorted(
            (i["id"], json.dumps(i["data"], sort_keys=True), tuple(i["tags"])) for i in items
        ),
        "versions": [(v["version_hash"], v["items_total"], tuple(v["tags"])) for v in versions],
    }


def assert_error_shape(response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    if status in (404, 409, 422):
        assert set(body) == {"errors"}
        assert body["errors"] and all(
            isinstance(message, str) and message for message in body["errors"]
        )
    else:
        assert set(body) == {"code", "message"}
        assert body["code"] == status and body["message"]


def put_items_body(ctx: dict, items: list) -> dict:
    return {"dataset_id": ctx["dataset_id"], "items": items}


# Each case is (method, path, build) where build(seeds) gives the request's keyword
# arguments; paths may name {dataset_id}, {item_id} and {version_hash} of the seeds.
def send_json(method: str, path: str, body):
    return method, path, lambda ctx: {"json": body(ctx) if callable(body) else body}


def send_raw(method: str, path: str, content, headers: dict):
    return (
        method,
        path,
        lambda ctx: {"content": content(ctx) if callable(content) else content, "headers": headers},
    )


def put_items(*items):
    """PUT datasets/items into the seeded dataset; an item may be a function of the seeds."""
    return send_json(
        "PUT", ITEMS, lambda ctx: put_items_body(ctx, [i(ctx) if callable(i) else i for i in items])
    )


def delete_items(body):
    return send_json("POST", "/datasets/items/delete", body)


def delete_where(*filters: dict):
    return delete_items(lambda ctx: {"dataset_id": ctx["dataset_id"], "filters": list(filters)})


def upload(route: str, name: str, content: bytes, **form):
    files = {"file": (name, content)}
    return (
        "POST",
        f"/datasets/items/{route}",
        lambda ctx: {"files": files, "data": {"dataset_id": ctx["dataset_id"], **form}},
    )


def items_json(*items) -> callable:
    return lambda ctx: json.dumps(put_items_body(ctx, list(items))).encode()


GOOD = {"data": {"fine": True}}
TOO_DEEP = json.loads("[" * 300 + "]" * 300)
BAD_WRITES = {
    "malformed JSON": (send_raw("PUT", ITEMS, b'{"items": [', JSON), 400),
    "malformed JSON dataset": (send_raw("POST", "/datasets", b"{name:", JSON), 400),
    "broken gzip": (send_raw("PUT", ITEMS, b"\x1f\x8bnot gzip", GZIP), 400),
    "truncated gzip": (
        send_raw(
            "PUT", ITEMS, lambda ctx: gzip.compress(items_json(*[GOOD] * 50)(ctx))[:-12], GZIP
        ),
        400,
    ),
    "unknown encoding": (send_raw("PUT", ITEMS, b"{}", {**JSON, "Content-Encoding": "br"}), 400),
    "items not a list": (send_json("PUT", ITEMS, lambda ctx: put_items_body(ctx, GOOD)), 422),
    "no items": (put_items(), 422),
    "data not an object": (put_items(GOOD, {"data": ["not", "an", "object"]}, GOOD), 422),
    "data a string": (put_items(GOOD, {"data": "text"}), 422),
    "item id not a UUID": (put_items(GOOD, {"id": "7", **GOOD}), 422),
    "unknown source": (put_items({"source": "x", **GOOD}), 422),
    "changed item in a bad batch": (
        put_items(lambda ctx: {"id": ctx["item_ids"][0], "data": {"n": 99}}, {"data": None}),
        422,
    ),
    "NUL in data": (put_items(GOOD, {"data": {"q": "a\x00b"}}), 422),
    "NUL in a data key": (put_items({"data": {"q\x00": 1}}), 422),
    "NUL in tags": (put_items({"data": {}, "tags": ["\x00"]}), 400),
    "lone surrogate": (
        send_raw("PUT", ITEMS, items_json(GOOD, {"data": {"q": "\ud800"}}), JSON),
        422,
    ),
    "nested too deep": (put_items({"data": {"deep": TOO_DEEP}}), 422),
    "patch nested too deep": (send_json("PATCH", ITEM, {"data": {"deep": TOO_DEEP}}), 422),
    "patch data not an object": (send_json("PATCH", ITEM, {"data": [1]}), 422),
    "batch update with NUL": (
        send_json(
            "PATCH",
            "/datasets/items/batch",
            lambda ctx: {"ids": ctx["item_ids"], "update": {"data": {"q": "\x00"}}},
        ),
        422,
    ),
    "dataset id not a UUID": (send_json("PUT", ITEMS, {"dataset_id": "abc", "items": [GOOD]}), 422),
    "no dataset": (send_json("PUT", ITEMS, {"items": [GOOD]}), 400),
    "missing dataset": (
        send_json("PUT", ITEMS, {"dataset_id": str(uuid.UUID(int=7)), "items": [GOOD]}),
        404,
    ),
    "delete with unknown operator": (
        delete_where({"field": "tags", "operator": "like", "value": "t"}),
        400,
    ),
    "delete with filter lacking a value": (
        delete_where({"field": "tags", "operator": "contains"}),
        400,
    ),
    "delete with ids and filters": (
        delete_items(
            lambda ctx: {
                "item_ids": ctx["item_ids"][:1],
                "filters": [{"field": "tags", "operator": "is_empty"}],
            }
        ),
        400,
    ),
    "delete with a bad item id": (
        delete_items(lambda ctx: {"item_ids": [ctx["item_ids"][0], "x"]}),
        422,
    ),
    "delete with nothing": (delete_items({}), 400),
    "delete-batch empty": (send_json("POST", "/datasets/delete-batch", {"ids": []}), 422),
    "delete-batch bad id": (
        send_json("POST", "/datasets/delete-batch", lambda ctx: {"ids": [ctx["dataset_id"], "x"]}),
        422,
    ),
    "dataset blank name": (send_json("POST", "/datasets", {"name": "   "}), 400),
    "dataset name with NUL": (send_json("POST", "/datasets", {"name": "new\x00"}), 400),
    "dataset name too long": (send_json("POST", "/datasets", {"name": "n" * 513}), 422),
    "dataset unknown type": (send_json("POST", "/datasets", {"name": "new", "type": "table"}), 422),
    "dataset duplicate": (
        send_json("POST", "/datasets", {"name": "seeded", "description": "x"}),
        409,
    ),
    "dataset body an array": (send_json("POST", "/datasets", [{"name": "new"}]), 422),
    "rename to empty": (
        send_json("PUT", "/datasets/{dataset_id}", {"name": "", "description": "x"}),
        422,
    ),
    "csv with extra values": (upload("from-csv", "a.csv", b"q,a\n1,2\n3,4,5\n"), 400),
    "csv not UTF-8": (upload("from-csv", "a.csv", b"q\n\xff\xfe\n"), 400),
    "csv without file": (
        (
            "POST",
            "/datasets/items/from-csv",
            lambda ctx: {"data": {"dataset_id": ctx["dataset_id"]}},
        ),
        422,
    ),
    "json file not an array": (upload("from-json", "a.json", b'{"q": 1}', format="json"), 400),
    "jsonl with a bad line": (
        upload("from-json", "a.jsonl", b'{"q": 1}\n[2]\n', format="jsonl"),
        400,
    ),
    "NUL in a JSONL file": (
        upload("from-json", "a.jsonl", b'{"q": 1}\n{"q": "\\u0000"}\n', format="jsonl"),
        400,
    ),
    "surrogate in a JSON file": (
        upload("from-json", "a.json", b'[{"q": "\\udc00"}]', format="json"),
        400,
    ),
    "unknown file format": (upload("from-json", "a.xml", b"<q/>", format="xml"), 422),
    "tag too long": (send_json("POST", TAGS_URL, {"tag": "x" * 101}), 422),
    "tag latest": (send_json("POST", TAGS_URL, {"tag": "latest"}), 400),
    "restore unknown": (send_json("POST", VERSIONS + "restore", {"version_ref": "nope"}), 404),
    "version name pattern": (send_json("POST", VERSIONS + "retrieve", {"version_name": "1"}), 422),
}


@pytest.mark.parametrize("case", list(BAD_WRITES))
def test_a_bad_write_is_refused_and_changes_nothing(client, seeded, case):
    (method, path, build), status = BAD_WRITES[case]
    before = stored(client, seeded["dataset_id"])
    url = API + path.format(item_id=seeded["item_ids"][0], **seeded)

    response = client.request(method, url, **build(seeded))

    assert_error_shape(response, status)
    assert stored(client, seeded["dataset_id"]) == before


BAD_READS = {
    "unknown operator": (
        {"filters": json.dumps([{"field": "data", "key": "n", "operator": "~", "value": "1"}])},
        400,
    ),
    "filters an object": ({"filters": json.dumps({"field": "tags", "operator": "is_empty"})}, 400),
    "filters not JSON": ({"filters": "tags=t"}, 400),
    "filter on an unknown field": (
        {"filters": json.dumps([{"field": "colour", "operator": "=", "value": "red"}])},
        400,
    ),
    "filter on data without a key": (
        {"filters": json.dumps([{"field": "data", "operator": "=", "value": "1"}])},
        400,
    ),
    "operator that does not fit": (
        {"filters": json.dumps([{"field": "tags", "operator": ">", "value": "a"}])},
        400,
    ),
    "date that is not a date": (
        {"filters": json.dumps([{"field": "created_at", "operator": ">", "value": "soon"}])},
        400,
    ),
    "date past the calendar": (
        {
            "filters": json.dumps(
                [{"field": "created_at", "operator": ">", "value": "9999-12-31T23:00:00-05:00"}]
            )
        },
        400,
    ),
    "sorting on an unknown field": ({"sorting": json.dumps([{"field": "colour"}])}, 400),
    "sorting direction": ({"sorting": json.dumps([{"field": "id", "direction": "UP"}])}, 400),
    "page zero": ({"page": 0}, 422),
    "page not a number": ({"page": "first"}, 422),
    "size zero": ({"size": 0}, 422),
    "page past 32 bits": ({"page": 2**31}, 422),
    "unknown version": ({"version": "v9"}, 404),
}


@pytest.mark.parametrize("case", list(BAD_READS))
def test_a_bad_item_listing_is_a_clear_4xx(client, seeded, case):
    params, status = BAD_READS[case]

    assert_error_shape(
        client.get(f"{API}/datasets/{seeded['dataset_id']}/items", params=params), status
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        # An id that is not a UUID names nothing: "not found", as Opik answers.
        ("/datasets/not-a-uuid", 404),
        ("/datasets/items/12345", 404),
        ("/datasets/not-a-uuid/items", 404),
        ("/datasets/not-a-uuid/versions", 404),
        ("/datasets/0190e4d2-0000-7000-8000-000000000000/versions", 404),
        ("/no-such-thing", 404),
        ("/datasets/items/stream/extra", 404),
    ],
)
def test_ids_naming_nothing_and_unknown_routes_are_clear_4xx(client, path, status):
    assert_error_shape(client.get(API + path), status)


def test_a_value_the_engine_cannot_hold_is_a_400_never_a_500(client, seeded, engine_name):
    """PostgreSQL cannot hold a NUL character in text; SQLite can, and keeps it as sent."""
    before = stored(client, seeded["dataset_id"])

    response = client.put(
        f"{API}/datasets/{seeded['dataset_id']}", json={"name": "seeded", "description": "a\x00b"}
    )

    if engine_name == "postgresql":
        assert_error_shape(response, 400)
        assert stored(client, seeded["dataset_id"]) == before
    else:
        assert response.status_code == 204
        assert (
            client.get(f"{API}/datasets/{seeded['dataset_id']}").json()["description"] == "a\x00b"
        )


def test_nested_data_within_the_limit_round_trips(client, seeded):
    deep = json.loads("[" * 90 + '"bottom"' + "]" * 90)
    item_id = str(uuid.uuid4())

    response = client.put(
        f"{API}/datasets/items",
        json=put_items_body(seeded, [{"id": item_id, "data": {"deep": deep}}]),
    )

    assert response.status_code == 204
    assert client.get(f"{API}/datasets/items/{item_id}").json()["data"] == {"deep": deep}


def test_stream_limits_out_of_range_are_422(client, seeded):
    for limit in (0, 2001):
        response = client.post(
            f"{API}/datasets/items/stream", json={"dataset_name": "seeded", "steam_limit": limit}
        )
        assert_error_shape(response, 422)


def test_a_real_50_mb_body_is_refused_by_the_default_limit(client, seeded):
    before = stored(client, seeded["dataset_id"])
    blob = "x" * (50 * 1024 * 1024)
    body = json.dumps(put_items_body(seeded, [{"data": {"blob": blob}}])).encode()

    response = client.put(f"{API}/datasets/items", content=body, headers=JSON)

    assert_error_shape(response, 413)
    assert "limit" in response.json()["message"]
    assert stored(client, seeded["dataset_id"]) == before


def test_a_gzip_bomb_is_refused_by_the_default_limit(client, seeded):
    before = stored(client, seeded["dataset_id"])
    body = json.dumps(
        put_items_body(seeded, [{"data": {"blob": "0" * (40 * 1024 * 1024)}}])
    ).encode()
    bomb = gzip.compress(body, compresslevel=9)
    assert len(bomb) < 100_000

    response = client.put(f"{API}/datasets/items", content=bomb, headers=GZIP)

    assert_error_shape(response, 413)
    assert stored(client, seeded["dataset_id"]) == before


@pytest.fixture
def small_client(database_url, database, tmp_path):
    """The app with a 4 KiB body limit, over the same database as ``client``."""
    settings = Settings(database_url=database_url, home=tmp_path, max_body_bytes=4096)
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def test_a_configured_limit_applies_to_plain_streamed_and_compressed_bodies(small_client, seeded):
    client = small_client
    before = stored(client, seeded["dataset_id"])
    body = json.dumps(put_items_body(seeded, [{"data": {"blob": "y" * 5000}}])).encode()

    declared = client.put(f"{API}/datasets/items", content=body, headers=JSON)
    streamed = client.put(
        f"{API}/datasets/items", content=iter([body[:3000], body[3000:]]), headers=JSON
    )
    compressed = client.put(f"{API}/datasets/items", content=gzip.compress(body), headers=GZIP)

    for response in (declared, streamed, compressed):
        assert_error_shape(response, 413)
    assert len(gzip.compress(body)) < 4096
    assert stored(client, seeded["dataset_id"]) == before


def test_bodies_within_a_configured_limit_still_work(small_client, seeded):
    body = json.dumps(put_items_body(seeded, [{"data": {"blob": "z" * 3000}}])).encode()

    plain = small_client.put(f"{API}/datasets/items", content=body, headers=JSON)
    compressed = small_client.put(
        f"{API}/datasets/items",
        content=gzip.compress(
            json.dumps(put_items_body(seeded, [{"data": {"other": "w" * 3000}}])).encode()
        ),
        headers=GZIP,
    )

    assert (plain.status_code, compressed.status_code) == (204, 204)
    listed = small_client.get(f"{API}/datasets/{seeded['dataset_id']}/items").json()
    assert listed["total"] == 5
