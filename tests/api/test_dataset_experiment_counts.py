"""Datasets report the experiments that ran on them, and can be listed by that."""

from tests.api.experiment_http import create_experiment, dataset_with_items
from tests.api.opik_http import API, create_dataset, get_json


def test_datasets_count_their_experiments_and_can_be_narrowed_to_those_with_some(client):
    dataset_id, _ = dataset_with_items(client, "evaluated", [{"q": "one"}])
    create_dataset(client, "untouched")
    create_experiment(client, "evaluated", name="first")
    create_experiment(client, "evaluated", name="second")

    listed = {d["name"]: d for d in get_json(client, f"{API}/datasets")["content"]}
    assert listed["evaluated"]["experiment_count"] == 2
    assert "last_created_experiment_at" in listed["evaluated"]
    assert listed["untouched"]["experiment_count"] == 0
    assert "last_created_experiment_at" not in listed["untouched"]
    assert get_json(client, f"{API}/datasets/{dataset_id}")["experiment_count"] == 2

    only = get_json(client, f"{API}/datasets", with_experiments_only="true")
    assert [d["name"] for d in only["content"]] == ["evaluated"] and only["total"] == 1


def test_experiments_of_another_workspace_are_not_counted(client):
    create_dataset(client, "shared name")
    create_dataset(client, "shared name", headers={"Comet-Workspace": "other"})
    create_experiment(client, "shared name", name="theirs", headers={"Comet-Workspace": "other"})

    listed = get_json(client, f"{API}/datasets")["content"]
    assert [(d["name"], d["experiment_count"]) for d in listed] == [("shared name", 0)]
