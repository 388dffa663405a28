"""POST /v1/private/datasets/{id}/items/changes: a delta and version settings as one new
version, guarded by the base version it was computed against."""

import uuid

import pytest

from tests.api.opik_http import API, create_dataset, get_json, put_items

POLICY = {"runs_per_item": 3, "pass_threshold": 2}
JUDGE = {"name": "helpful", "type": "llm_judge", "config": {"assertion": "The answer is helpful"}}


def apply(client, dataset_id: str, override: bool | None = None, **body):
    params = {} if override is None else {"override": str(override).lower()}
    return client.post(f"{API}/datasets/{dataset_id}/items/changes", json=body, params=params)


def items(client, dataset_id: str, version: str | None = None) -> dict[str, dict]:
    params = {"size": 1000, **({"version": version} if version else {})}
    page = get_json(client, f"{API}/datasets/{dataset_id}/items", **params)
    return {item["id"]: item for item in page["content"]}


def versions(client, dataset_id: str) -> list[dict]:
    return get_json(client, f"{API}/datasets/{dataset_id}/versions", size=100)["content"]


@pytest.fixture
def suite(client) -> dict:
    """A suite whose v1 came from a change set: two items, an evaluator and a policy."""
    dataset_id = create_dataset(client, "suite", type="evaluation_suite")
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    response = apply(
        client,
        dataset_id,
        added_items=[
            {"id": a, "data": {"q": "a"}, "tags": ["keep"]},
            {"id": b, "data": {"q": "b"}},
        ],
        evaluators=[JUDGE],
        execution_policy=POLICY,
        tags=["baseline"],
        metadata={"source": "tests"},
        change_description="first cut",
    )
    assert response.status_code == 201, response.text
    return {"dataset_id": dataset_id, "a": a, "b": b, "v1": response.json()}


def test_the_first_change_set_makes_v1_with_its_settings(client, suite):
    v1 = suite["v1"]
    assert (v1["version_name"], v1["is_latest"], v1["items_total"], v1["items_added"]) == (
        "v1",
        True,
        2,
        2,
    )
    assert v1["evaluators"] == [JUDGE] and v1["execution_policy"] == POLICY
    assert v1["tags"] == ["baseline"] and v1["metadata"] == {"source": "tests"}
    assert v1["change_description"] == "first cut"
    assert {item["data"]["q"] for item in items(client, suite["dataset_id"]).values()} == {"a", "b"}


def test_edits_deletes_and_adds_land_in_one_version_that_keeps_the_settings(client, suite):
    c = str(uuid.uuid4())
    response = apply(
        client,
        suite["dataset_id"],
        base_version=suite["v1"]["id"],
        added_items=[{"id": c, "data": {"q": "c"}}],
        edited_items=[{"id": suite["a"], "data": {"q": "a2"}}],
        deleted_ids=[suite["b"]],
    )

    assert response.status_code == 201, response.text
    v2 = response.json()
    assert (v2["version_name"], v2["items_added"], v2["items_modified"], v2["items_deleted"]) == (
        "v2",
        1,
        1,
        1,
    )
    assert v2["evaluators"] == [JUDGE] and v2["execution_policy"] == POLICY
    now = items(client, suite["dataset_id"])
    assert set(now) == {suite["a"], c}
    assert now[suite["a"]]["data"] == {"q": "a2"} and now[suite["a"]]["tags"] == ["keep"]
    assert {i["data"]["q"] for i in items(client, suite["dataset_id"], "v1").values()} == {"a", "b"}


def test_a_stale_base_version_is_a_conflict_unless_overridden(client, suite):
    put_items(client, suite["dataset_id"], [{"data": {"q": "sneaked in"}}])  # v2
    before = items(client, suite["dataset_id"])

    stale = apply(
        client, suite["dataset_id"], base_version=suite["v1"]["id"], deleted_ids=[suite["a"]]
    )
    assert stale.status_code == 409 and "base_version" in stale.json()["errors"][0]
    assert items(client, suite["dataset_id"]) == before
    assert len(versions(client, suite["dataset_id"])) == 2

    forced = apply(
        client,
        suite["dataset_id"],
        override=True,
        base_version=suite["v1"]["id"],
        deleted_ids=[suite["a"]],
    )
    assert forced.status_code == 201
    assert suite["a"] not in items(client, suite["dataset_id"])


def test_settings_alone_make_a_version_and_the_policy_can_be_cleared(client, suite):
    response = apply(
        client, suite["dataset_id"], base_version=suite["v1"]["id"], clear_execution_policy=True
    )

    assert response.status_code == 201
    v2 = response.json()
    assert (v2["version_name"], v2["items_total"], v2["items_added"]) == ("v2", 2, 0)
    assert "execution_policy" not in v2 and v2["evaluators"] == [JUDGE]


def test_later_item_writes_carry_the_suite_settings_forward(client, suite):
    put_items(client, suite["dataset_id"], [{"data": {"q": "plain insert"}}])
    latest = versions(client, suite["dataset_id"])[0]
    assert latest["version_name"] == "v2" and latest["execution_policy"] == POLICY


@pytest.mark.parametrize(
    "body, status",
    [
        ({"base_version": str(uuid.uuid4())}, 404),
        ({"edited_items": [{"id": str(uuid.uuid4()), "data": {"q": "ghost"}}]}, 404),
        ({"copy_from_dataset_id": str(uuid.uuid4())}, 400),
        ({"deleted_ids": ["not-a-uuid"]}, 422),
        ({"added_items": [{"data": "not an object"}]}, 422),
    ],
)
def test_bad_change_sets_change_nothing(client, suite, body, status):
    before = (items(client, suite["dataset_id"]), versions(client, suite["dataset_id"]))
    body = {"base_version": suite["v1"]["id"], **body}

    response = apply(client, suite["dataset_id"], **body)

    assert response.status_code == status, response.text
    assert (items(client, suite["dataset_id"]), versions(client, suite["dataset_id"])) == before


def test_copy_from_carries_another_datasets_version_forward(client, suite):
    target = create_dataset(client, "copy")
    put_items(client, target, [{"data": {"q": "will be replaced"}}])
    base = versions(client, target)[0]["id"]

    response = apply(
        client,
        target,
        base_version=base,
        copy_from_dataset_id=suite["dataset_id"],
        copy_from_version_id=suite["v1"]["id"],
        added_items=[{"data": {"q": "extra"}}],
    )

    assert response.status_code == 201, response.text
    copied = items(client, target)
    assert {item["data"]["q"] for item in copied.values()} == {"a", "b", "extra"}
    assert {suite["a"], suite["b"]} <= set(copied)
    assert response.json()["items_total"] == 3


def test_an_upload_can_start_from_another_datasets_version_once_per_batch_group(client, suite):
    target = create_dataset(client, "carried")
    group = str(uuid.uuid4())
    copy_from = {
        "copy_from_dataset_id": suite["dataset_id"],
        "copy_from_version_id": suite["v1"]["id"],
    }

    for batch in ("first", "second"):
        put_items(client, target, [{"data": {"q": batch}}], batch_group_id=group, **copy_from)

    assert {item["data"]["q"] for item in items(client, target).values()} == {
        "a",
        "b",
        "first",
        "second",
    }
    assert [v["version_name"] for v in versions(client, target)] == ["v1"]
