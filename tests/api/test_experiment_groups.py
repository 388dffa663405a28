"""Experiments grouped as Opik's experiments page groups them: nested by dataset and by a
metadata key, labelled, ordered newest first, and with what each group's experiments add
up to."""

import pytest

from tests.api.experiment_http import RunSpec, create_experiment, dataset_with_items, record_runs
from tests.api.opik_http import API, get_json

OTHER = {"Comet-Workspace": "elsewhere"}
BY_DATASET = [{"field": "dataset_id", "type": "string"}]
BY_DATASET_AND_MODEL = [*BY_DATASET, {"field": "metadata", "key": "model", "type": "dictionary"}]


@pytest.fixture
def lab(client) -> dict:
    """Two datasets; "faq" has experiments on two models (two on gpt, each with one scored
    run), "chat" one experiment without a model, made last."""
    faq, faq_items = dataset_with_items(client, "faq", [{"q": "a"}, {"q": "b"}])
    chat, _ = dataset_with_items(client, "chat", [{"q": "c"}])
    gpt_1 = create_experiment(client, "faq", "gpt 1", metadata={"model": "gpt"}, tags=["x"])
    gpt_2 = create_experiment(client, "faq", "gpt 2", metadata={"model": "gpt"})
    claude = create_experiment(client, "faq", "claude", metadata={"model": "claude"})
    plain = create_experiment(client, "chat", "plain", tags=["x", "y"])
    record_runs(client, gpt_1, [RunSpec(faq_items[0], scores={"accuracy": 1.0})])
    record_runs(client, gpt_2, [RunSpec(faq_items[1], scores={"accuracy": 0.5})])
    record_runs(client, claude, [RunSpec(faq_items[0], scores={"accuracy": 0.0})])
    return {"faq": faq, "chat": chat, "plain": plain}


def groups(client, path: str = "/experiments/groups", headers=None, **params) -> dict:
    return get_json(client, f"{API}{path}", headers=headers, **params)


def test_groups_nest_by_dataset_then_metadata_key(client, lab):
    found = groups(client, groups=BY_DATASET_AND_MODEL)
    assert found["content"] == {
        lab["faq"]: {"label": "faq", "groups": {"gpt": {"groups": {}}, "claude": {"groups": {}}}},
        # An experiment without the key is left out below its dataset.
        lab["chat"]: {"label": "chat", "groups": {}},
    }
    # Each level's labels, the group with the newest experiment first.
    assert found["details"]["groups_details"] == [
        {"group_sorting": ["chat", "faq"]},
        {"group_sorting": ["claude", "gpt"]},
    ]


def test_an_experiment_is_in_the_group_of_each_of_its_tags(client, lab):
    found = groups(client, groups=[{"field": "tags", "type": "list"}])
    assert set(found["content"]) == {"x", "y"}


def test_aggregations_add_up_each_groups_experiments(client, lab):
    found = groups(client, "/experiments/groups/aggregations", groups=BY_DATASET_AND_MODEL)
    faq = found["content"][lab["faq"]]
    assert faq["label"] == "faq"
    assert faq["aggregations"]["experiment_count"] == 3
    assert faq["aggregations"]["trace_count"] == 3
    assert faq["aggregations"]["feedback_scores"] == [{"name": "accuracy", "value": 0.5}]
    gpt = faq["groups"]["gpt"]
    assert gpt["label"] == "gpt"
    assert (gpt["aggregations"]["experiment_count"], gpt["aggregations"]["feedback_scores"]) == (
        2,
        [{"name": "accuracy", "value": 0.75}],
    )
    assert gpt["aggregations"]["duration"]["p50"] == pytest.approx(100.0)
    chat = found["content"][lab["chat"]]["aggregations"]
    assert (chat["experiment_count"], chat["trace_count"]) == (1, 0)
    assert "duration" not in chat


def test_the_experiments_filters_narrow_the_groups(client, lab):
    found = groups(client, groups=BY_DATASET, name="gpt")
    assert list(found["content"]) == [lab["faq"]]
    only_chat = groups(
        client,
        "/experiments/groups/aggregations",
        groups=BY_DATASET,
        filters=[{"field": "tags", "operator": "contains", "value": "y"}],
    )
    assert list(only_chat["content"]) == [lab["chat"]]


def test_a_deleted_datasets_group_is_labelled_as_opik_labels_it(client, lab):
    response = client.delete(f"{API}/datasets/{lab['chat']}")
    assert response.status_code == 204, response.text
    found = groups(client, groups=BY_DATASET)
    assert found["content"][lab["chat"]]["label"] == "__DELETED"


def test_another_workspace_sees_no_groups(client, lab):
    assert groups(client, groups=BY_DATASET, headers=OTHER)["content"] == {}
    aggregated = groups(
        client, "/experiments/groups/aggregations", groups=BY_DATASET, headers=OTHER
    )
    assert aggregated == {"content": {}}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Required query parameter 'groups' is missing"),
        ({"groups": "[]"}, "At least one grouping field must be specified"),
        ({"groups": "not json"}, "groups must be a JSON array"),
        ({"groups": '[{"field": "name"}]'}, "Invalid grouping field: name"),
        ({"groups": '[{"field": "metadata"}]'}, "Key must be specified for json field 'metadata'"),
        ({"groups": '[{"field": "dataset_id", "type": "list"}]'}, "Invalid field type"),
    ],
)
@pytest.mark.parametrize("path", ["/experiments/groups", "/experiments/groups/aggregations"])
def test_a_bad_grouping_is_a_400_in_opiks_shape(client, path, params, message):
    response = client.get(f"{API}{path}", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert message in response.json()["message"]
