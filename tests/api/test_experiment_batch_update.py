"""``PATCH /v1/private/experiments/batch``: one update applied to many experiments, tags
replaced or merged, and nothing changed when any id is not an experiment of the
workspace."""

import uuid

from tests.api.experiment_http import (
    create_experiment,
    dataset_with_items,
    get_experiment,
    send,
)


def two_experiments(client) -> list[str]:
    dataset_with_items(client, "faq", [{"q": "a"}])
    return [
        create_experiment(client, "faq", "first", tags=["old"]),
        create_experiment(client, "faq", "second", tags=["kept"]),
    ]


def test_one_update_changes_every_experiment_named(client):
    ids = two_experiments(client)
    update = {"status": "cancelled", "metadata": {"round": 2}, "tags": ["new"]}
    send(client, "PATCH", "experiments/batch", {"ids": ids, "update": update})
    for experiment_id in ids:
        found = get_experiment(client, experiment_id)
        assert (found["status"], found["metadata"], found["tags"]) == (
            "cancelled",
            {"round": 2},
            ["new"],
        )


def test_merge_tags_adds_to_each_experiments_own(client):
    ids = two_experiments(client)
    body = {"ids": ids, "update": {"tags": ["new"]}, "merge_tags": True}
    send(client, "PATCH", "experiments/batch", body)
    assert [get_experiment(client, i)["tags"] for i in ids] == [["old", "new"], ["kept", "new"]]


def test_an_unknown_id_changes_nothing(client):
    ids = two_experiments(client)
    body = {"ids": [*ids, str(uuid.uuid4())], "update": {"name": "renamed"}}
    send(client, "PATCH", "experiments/batch", body, status=404)
    assert [get_experiment(client, i)["name"] for i in ids] == ["first", "second"]


def test_a_malformed_batch_is_refused(client):
    ids = two_experiments(client)
    send(client, "PATCH", "experiments/batch", {"ids": [], "update": {}}, status=422)
    send(client, "PATCH", "experiments/batch", {"ids": ids}, status=422)
    send(client, "PATCH", "experiments/batch", {"ids": ids, "update": {"name": " "}}, status=400)
    assert get_experiment(client, ids[0])["name"] == "first"
