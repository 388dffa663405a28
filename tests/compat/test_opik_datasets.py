"""The unmodified Opik Python client, over real HTTP, against ``seedbed serve``.

Everything here is what a user of ``opik`` would do and see: datasets, items, versions,
and API keys. The server runs on SQLite and on PostgreSQL.
"""

import httpx
import pytest
from opik import id_helpers
from opik.exceptions import DatasetVersionNotFound
from opik.rest_api.core.api_error import ApiError

pytestmark = [
    pytest.mark.compat,
    # Raised inside httpx by how the Opik client builds its HTTP client; not ours to fix.
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]


def _rows(start: int, stop: int) -> list[dict]:
    return [
        {"input": f"question {n}", "expected_output": f"answer {n}"} for n in range(start, stop)
    ]


def _questions(start: int, stop: int) -> set[str]:
    return {f"question {n}" for n in range(start, stop)}


def _inputs(dataset) -> set[str]:
    """The ``input`` of every item, checking on the way that none came back twice."""
    items = dataset.get_items()
    inputs = [item["input"] for item in items]
    assert len(inputs) == len(set(inputs)), "an item was returned twice"
    return set(inputs)


def _status_of(call) -> int:
    with pytest.raises(ApiError) as raised:
        call()
    return raised.value.status_code


# -- datasets ---------------------------------------------------------------------------


def test_get_or_create_dataset_creates_it_once(opik_client):
    created = opik_client.get_or_create_dataset("support-faq", description="what customers ask")
    again = opik_client.get_or_create_dataset("support-faq")

    assert again.id == created.id
    assert again.description == "what customers ask"
    assert [dataset.name for dataset in opik_client.get_datasets()] == ["support-faq"]


def test_get_dataset_of_an_unknown_name_is_not_found(opik_client):
    assert _status_of(lambda: opik_client.get_dataset("no-such-dataset")) == 404


def test_get_dataset_returns_the_stored_dataset(opik_client):
    opik_client.create_dataset("graded", description="with answers").insert(_rows(0, 4))

    found = opik_client.get_dataset("graded")

    assert (found.name, found.description) == ("graded", "with answers")
    assert found.dataset_items_count == 4
    assert _inputs(found) == _questions(0, 4)


def test_get_datasets_pages_through_every_dataset(server, opik_client):
    # The client asks for pages of 100 until one comes back empty: 103 datasets take
    # two pages and an empty third. They are created over plain HTTP to keep this quick.
    names = {f"dataset-{n:03d}" for n in range(103)}
    with httpx.Client(base_url=f"{server}/api/v1/private") as http:
        for name in names:
            assert http.post("/datasets", json={"name": name}).status_code == 201

    assert {dataset.name for dataset in opik_client.get_datasets(max_results=1000)} == names
    assert len(opik_client.get_datasets()) == 100  # the client's default max_results


def test_delete_dataset_removes_it_and_frees_its_name(opik_client):
    opik_client.create_dataset("keep")
    opik_client.create_dataset("drop").insert(_rows(0, 3))

    opik_client.delete_dataset("drop")

    assert [dataset.name for dataset in opik_client.get_datasets()] == ["keep"]
    assert _status_of(lambda: opik_client.get_dataset("drop")) == 404
    assert _status_of(lambda: opik_client.delete_dataset("drop")) == 404
    assert opik_client.get_or_create_dataset("drop").get_items() == []


# -- inserting items --------------------------------------------------------------------


def test_a_large_insert_lands_as_one_version(opik_client):
    # The client sends at most 1,000 items a request, gzipped, on up to 8 threads, all
    # under one batch_group_id: 2,500 items are three concurrent requests.
    dataset = opik_client.create_dataset("bulk")

    dataset.insert(_rows(0, 2500))

    version = dataset.get_version_info()
    assert (version.version_name, version.items_total, version.items_added) == ("v1", 2500, 2500)
    assert opik_client.get_dataset("bulk").dataset_items_count == 2500
    assert _inputs(dataset) == _questions(0, 2500)


def test_inserting_the_same_items_again_adds_nothing(opik_client):
    dataset = opik_client.create_dataset("repeated")
    dataset.insert(_rows(0, 300))

    dataset.insert(_rows(0, 300))

    version = dataset.get_version_info()
    assert (version.version_name, version.items_total) == ("v1", 300)
    assert _inputs(dataset) == _questions(0, 300)


def test_a_fresh_client_inserts_only_the_items_not_yet_stored(opik_client, make_opik_client):
    # A new client learns what is stored by streaming every item, newest first. 2,100
    # items take more than one page of the stream (2,000): the oldest ones, which this
    # insert repeats, are only seen if the stream continues where it stopped.
    opik_client.create_dataset("overlap").insert(_rows(0, 2100))

    later = make_opik_client().get_dataset("overlap")
    later.insert(_rows(0, 50) + _rows(2100, 2150))

    version = later.get_version_info()
    assert (version.version_name, version.items_added, version.items_total) == ("v2", 50, 2150)
    assert _inputs(later) == _questions(0, 2150)


def test_items_keep_the_ids_and_content_the_client_gave_them(opik_client):
    dataset = opik_client.create_dataset("chosen-ids")
    chosen = [id_helpers.generate_id() for _ in range(3)]
    rows = [
        {"id": chosen[0], "input": "¿Dónde está mi pedido?", "expected_output": "En camino 🚚"},
        {"id": chosen[1], "input": "refund", "context": {"order": 42, "tags": ["vip", None]}},
        {"id": chosen[2], "input": "hello", "score": 0.5, "flags": [True, False]},
    ]

    dataset.insert(rows)

    def by_id(item):
        return item["id"]

    assert sorted(dataset.get_items(), key=by_id) == sorted(rows, key=by_id)


def test_update_replaces_items_by_id(opik_client):
    dataset = opik_client.create_dataset("updated")
    chosen = [id_helpers.generate_id() for _ in range(3)]
    dataset.insert([{"id": item_id, "input": f"question {n}"} for n, item_id in enumerate(chosen)])

    dataset.update([{"id": chosen[1], "input": "question 1, reworded"}])

    stored = {item["id"]: item["input"] for item in dataset.get_items()}
    assert stored == {
        chosen[0]: "question 0",
        chosen[1]: "question 1, reworded",
        chosen[2]: "question 2",
    }
    version = dataset.get_version_info()
    assert (version.version_name, version.items_modified, version.items_total) == ("v2", 1, 3)
    assert _inputs(dataset.get_version_view("v1")) == _questions(0, 3)


# -- deleting items ---------------------------------------------------------------------


def test_delete_removes_only_the_given_items(opik_client):
    dataset = opik_client.create_dataset("pruned")
    dataset.insert(_rows(0, 10))
    by_input = {item["input"]: item["id"] for item in dataset.get_items()}

    dataset.delete([by_input["question 0"], by_input["question 7"]])

    assert _inputs(dataset) == _questions(0, 10) - {"question 0", "question 7"}
    assert dataset.dataset_items_count == 8
    version = dataset.get_version_info()
    assert (version.version_name, version.items_deleted, version.items_total) == ("v2", 2, 8)


def test_clear_empties_the_dataset_as_a_new_version(opik_client):
    dataset = opik_client.create_dataset("cleared")
    dataset.insert(_rows(0, 10))

    dataset.clear()

    assert dataset.get_items() == []
    assert opik_client.get_dataset("cleared").dataset_items_count == 0
    version = dataset.get_version_info()
    assert (version.version_name, version.items_deleted, version.items_total) == ("v2", 10, 0)
    assert len(dataset.get_version_view("v1").get_items()) == 10

    dataset.insert(_rows(0, 10))  # what was cleared can be inserted again
    assert _inputs(dataset) == _questions(0, 10)


# -- versions ---------------------------------------------------------------------------


def test_each_change_is_a_version_and_old_versions_stay_readable(opik_client):
    dataset = opik_client.create_dataset("versioned")
    assert dataset.get_current_version_name() is None

    dataset.insert(_rows(0, 5))
    dataset.insert(_rows(5, 8))
    by_input = {item["input"]: item["id"] for item in dataset.get_items()}
    dataset.delete([by_input["question 0"], by_input["question 5"]])

    assert dataset.get_current_version_name() == "v3"
    latest = dataset.get_version_info()
    assert latest.is_latest
    assert (latest.items_total, latest.items_added, latest.items_deleted) == (6, 0, 2)

    first = dataset.get_version_view("v1")
    assert (first.version_name, first.items_total, first.is_latest) == ("v1", 5, False)
    assert _inputs(first) == _questions(0, 5)
    assert _inputs(dataset.get_version_view("v2")) == _questions(0, 8)
    assert _inputs(dataset) == _questions(1, 8) - {"question 5"}

    with pytest.raises(DatasetVersionNotFound):
        dataset.get_version_view("v9")


# -- API keys ---------------------------------------------------------------------------


def test_an_api_key_opens_its_workspace(keyed_server, opik_env, create_key, make_opik_client):
    secret = create_key("sdk-user", "ws1")
    opik_env(keyed_server, workspace="ws1", api_key=secret)
    client = make_opik_client()

    client.get_or_create_dataset("private").insert(_rows(0, 3))

    assert [dataset.name for dataset in client.get_datasets()] == ["private"]
    assert _inputs(client.get_dataset("private")) == _questions(0, 3)


@pytest.mark.parametrize(
    "key, workspace",
    [("wrong", "ws1"), (None, "ws1"), ("right", "ws2")],
    ids=["wrong key", "no key", "workspace the key does not open"],
)
def test_the_server_refuses_a_client_without_a_valid_key(
    keyed_server, opik_env, create_key, make_opik_client, key, workspace
):
    secret = create_key("sdk-user", "ws1")
    api_key = {"wrong": "sb_not-a-real-key", "right": secret}.get(key)
    opik_env(keyed_server, workspace=workspace, api_key=api_key)
    client = make_opik_client()

    assert _status_of(lambda: client.get_or_create_dataset("private")) == 401
    assert _status_of(lambda: client.get_datasets()) == 401
