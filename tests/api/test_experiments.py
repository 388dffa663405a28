"""Experiments and experiment items over HTTP: create, find (every query parameter),
read, update, finish, stream, delete — in the caller's workspace only."""

import json

import pytest

from tests.api.experiment_http import (
    RunSpec,
    create_experiment,
    dataset_with_items,
    get_experiment,
    new_id,
    percentile,
    record_runs,
    send,
)
from tests.api.opik_http import API, get_json, put_items

OTHER = {"Comet-Workspace": "elsewhere"}


def find(client, **params) -> dict:
    return get_json(client, f"{API}/experiments", **params)


def names(page: dict) -> list[str]:
    return [experiment["name"] for experiment in page["content"]]


def stream(client, path: str, **body) -> list[dict]:
    response = client.post(f"{API}/{path}", json=body)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_create_keeps_the_client_id_and_reads_back_what_was_sent(client):
    dataset_id, _ = dataset_with_items(client, "qa", [{"q": "hi"}])
    experiment_id = new_id()
    response = client.post(
        f"{API}/experiments",
        json={
            "id": experiment_id,
            "dataset_name": "qa",
            "name": "baseline",
            "metadata": {"model": "gpt-4o-mini", "temperature": 0},
            "tags": ["nightly", "gpt"],
            "type": "trial",
            "project_name": "support-bot",
            "experiment_scores": [{"name": "f1", "value": 0.75}],
        },
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith(f"/v1/private/experiments/{experiment_id}")
    found = get_experiment(client, experiment_id)
    assert (found["id"], found["name"], found["dataset_id"], found["dataset_name"]) == (
        experiment_id,
        "baseline",
        dataset_id,
        "qa",
    )
    assert found["metadata"] == {"model": "gpt-4o-mini", "temperature": 0}
    assert (found["tags"], found["type"], found["status"], found["evaluation_method"]) == (
        ["nightly", "gpt"],
        "trial",
        "running",
        "dataset",
    )
    assert found["project_name"] == "support-bot"
    assert found["experiment_scores"] == [{"name": "f1", "value": 0.75}]
    assert (found["trace_count"], found["dataset_item_count"]) == (0, 0)
    # No scores yet: Opik leaves the field out, and its client reads None.
    assert "feedback_scores" not in found


def test_create_refuses_unknown_datasets_versions_and_taken_ids(client):
    dataset_with_items(client, "qa", [{"q": "hi"}])
    experiment_id = create_experiment(client, "qa")

    missing = client.post(f"{API}/experiments", json={"dataset_name": "nope", "name": "x"})
    assert (missing.status_code, missing.json()) == (404, {"errors": ["Dataset not found"]})
    unknown_version = client.post(
        f"{API}/experiments", json={"dataset_name": "qa", "dataset_version_id": new_id()}
    )
    assert unknown_version.status_code == 404
    taken = client.post(f"{API}/experiments", json={"id": experiment_id, "dataset_name": "qa"})
    assert taken.status_code == 409 and "errors" in taken.json()
    assert client.post(f"{API}/experiments", json={"name": "no dataset"}).status_code == 422
    bad_type = client.post(f"{API}/experiments", json={"dataset_name": "qa", "type": "weekly"})
    assert bad_type.status_code == 422
    # Ids are global: another workspace cannot take one either.
    dataset_with_items(client, "qa", [{"q": "hi"}], headers=OTHER)
    elsewhere = client.post(
        f"{API}/experiments", json={"id": experiment_id, "dataset_name": "qa"}, headers=OTHER
    )
    assert elsewhere.status_code == 409


def test_an_experiment_pins_the_dataset_version_it_ran_on(client):
    dataset_id, item_ids = dataset_with_items(client, "qa", [{"q": "first"}])
    versions = get_json(client, f"{API}/datasets/{dataset_id}/versions")["content"]
    pinned = create_experiment(client, "qa", "on v1")

    put_items(client, dataset_id, [{"id": item_ids[0], "data": {"q": "edited"}}])
    latest = create_experiment(client, "qa", "on v2")
    explicit = create_experiment(client, "qa", "back on v1", dataset_version_id=versions[0]["id"])

    assert get_experiment(client, pinned)["dataset_version_summary"]["version_name"] == "v1"
    assert get_experiment(client, pinned)["dataset_version_id"] == versions[0]["id"]
    assert get_experiment(client, latest)["dataset_version_summary"]["version_name"] == "v2"
    assert get_experiment(client, explicit)["dataset_version_summary"]["version_name"] == "v1"


def test_find_pages_newest_first_and_narrows_by_every_parameter(client):
    qa_id, _ = dataset_with_items(client, "qa", [{"q": "hi"}])
    dataset_with_items(client, "other", [{"q": "hi"}])
    optimization = new_id()
    first = create_experiment(
        client, "qa", "Baseline-GPT", type="trial", optimization_id=optimization
    )
    second = create_experiment(client, "qa", "tuned-gpt", tags=["keep"], metadata={"model": "a"})
    third = create_experiment(client, "other", "claude", type="mini-batch", project_name="bots")

    assert names(find(client)) == ["claude", "tuned-gpt", "Baseline-GPT"]
    page_two = find(client, page=2, size=2)
    assert (names(page_two), page_two["total"], page_two["page"]) == (["Baseline-GPT"], 3, 2)
    assert find(client, page=3, size=2)["content"] == []
    assert names(find(client, datasetId=qa_id)) == ["tuned-gpt", "Baseline-GPT"]
    assert names(find(client, name="GPT")) == ["tuned-gpt", "Baseline-GPT"]
    assert names(find(client, types=json.dumps(["trial", "mini-batch"]))) == [
        "claude",
        "Baseline-GPT",
    ]
    assert names(find(client, optimization_id=optimization)) == ["Baseline-GPT"]
    assert names(find(client, experiment_ids=json.dumps([first, third]))) == [
        "claude",
        "Baseline-GPT",
    ]
    project_id = get_experiment(client, third)["project_id"]
    assert names(find(client, project_id=project_id)) == ["claude"]
    assert names(find(client, project_deleted="false")) == ["claude", "tuned-gpt", "Baseline-GPT"]
    assert names(find(client, project_deleted="true")) == []
    tag_filter = [{"field": "tags", "operator": "contains", "value": "keep"}]
    assert names(find(client, filters=tag_filter)) == ["tuned-gpt"]
    metadata_filter = [{"field": "metadata", "key": "model", "operator": "=", "value": "a"}]
    assert names(find(client, filters=metadata_filter)) == ["tuned-gpt"]
    by_name = find(client, sorting=[{"field": "name", "direction": "ASC"}], force_sorting="true")
    assert names(by_name) == ["Baseline-GPT", "claude", "tuned-gpt"]
    assert {"name", "created_at", "trace_count", "duration.p50"} <= set(by_name["sortableBy"])
    assert second in [
        experiment["id"] for experiment in find(client, dataset_deleted="false")["content"]
    ]

    client.delete(f"{API}/datasets/{qa_id}")
    assert names(find(client, dataset_deleted="true")) == ["tuned-gpt", "Baseline-GPT"]
    assert names(find(client, dataset_deleted="false")) == ["claude"]


def test_find_refuses_malformed_parameters(client):
    for params in (
        {"types": "[trial"},
        {"types": json.dumps(["weekly"])},
        {"experiment_ids": json.dumps(["not-a-uuid"])},
        {"experiment_ids": '{"a": 1}'},
        {"datasetId": "nope"},
        {"filters": json.dumps([{"field": "colour", "operator": "=", "value": "x"}])},
        {"filters": json.dumps([{"field": "feedback_scores", "operator": ">", "value": "1"}])},
        {"sorting": json.dumps([{"field": "feedback_scores", "direction": "DESC"}])},
    ):
        response = client.get(f"{API}/experiments", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["code"] == 400


def test_patch_changes_only_what_is_sent(client):
    dataset_with_items(client, "qa", [{"q": "hi"}])
    experiment_id = create_experiment(client, "qa", "draft", tags=["a", "b"], metadata={"k": 1})

    send(
        client,
        "PATCH",
        f"experiments/{experiment_id}",
        {"name": "final", "tags_to_add": ["c"], "tags_to_remove": ["a"]},
    )
    send(
        client, "PATCH", f"experiments/{experiment_id}", {"status": "completed", "type": "mutation"}
    )
    send(
        client,
        "PATCH",
        f"experiments/{experiment_id}",
        {"experiment_scores": [{"name": "acc", "value": 0.9}]},
    )

    found = get_experiment(client, experiment_id)
    assert (found["name"], found["tags"], found["metadata"]) == ("final", ["b", "c"], {"k": 1})
    assert (found["status"], found["type"]) == ("completed", "mutation")
    assert found["experiment_scores"] == [{"name": "acc", "value": 0.9}]
    assert client.patch(f"{API}/experiments/{new_id()}", json={"name": "x"}).status_code == 404
    assert (
        client.patch(f"{API}/experiments/{experiment_id}", json={"status": "paused"}).status_code
        == 422
    )


def test_finish_completes_running_experiments(client):
    dataset_with_items(client, "qa", [{"q": "hi"}])
    running = create_experiment(client, "qa", "a")
    cancelled = create_experiment(client, "qa", "b", status="cancelled")

    send(client, "POST", "experiments/finish", {"ids": [running, cancelled, new_id()]})

    assert get_experiment(client, running)["status"] == "completed"
    assert get_experiment(client, cancelled)["status"] == "cancelled"


def test_experiment_items_keep_client_ids_and_resending_changes_nothing(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": "a"}, {"q": "b"}])
    experiment_id = create_experiment(client, "qa")
    items = [
        {
            "id": new_id(),
            "experiment_id": experiment_id,
            "dataset_item_id": item_id,
            "trace_id": new_id(),
        }
        for item_id in item_ids
    ]

    send(client, "POST", "experiments/items", {"experiment_items": items})
    send(client, "POST", "experiments/items", {"experiment_items": items})

    found = get_json(client, f"{API}/experiments/items/{items[0]['id']}")
    assert {key: found[key] for key in items[0]} == items[0]
    assert get_experiment(client, experiment_id)["dataset_item_count"] == 2
    streamed = stream(client, "experiments/items/stream", experiment_name="run")
    assert [entry["id"] for entry in streamed] == sorted(
        (item["id"] for item in items), reverse=True
    )
    unknown = {**items[0], "id": new_id(), "experiment_id": new_id()}
    response = client.post(f"{API}/experiments/items", json={"experiment_items": [unknown]})
    assert response.status_code == 404 and "errors" in response.json()
    assert client.get(f"{API}/experiments/items/{new_id()}").status_code == 404


def test_deleting_items_and_experiments(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": "a"}, {"q": "b"}])
    experiment_id = create_experiment(client, "qa")
    items = [
        {
            "id": new_id(),
            "experiment_id": experiment_id,
            "dataset_item_id": item_id,
            "trace_id": new_id(),
        }
        for item_id in item_ids
    ]
    send(client, "POST", "experiments/items", {"experiment_items": items})

    send(client, "POST", "experiments/items/delete", {"ids": [items[0]["id"]]})
    assert client.get(f"{API}/experiments/items/{items[0]['id']}").status_code == 404
    assert get_experiment(client, experiment_id)["trace_count"] == 1

    send(client, "POST", "experiments/delete", {"ids": [experiment_id]})
    assert client.get(f"{API}/experiments/{experiment_id}").status_code == 404
    assert client.get(f"{API}/experiments/items/{items[1]['id']}").status_code == 404
    assert client.post(f"{API}/experiments/delete", json={"ids": []}).status_code == 422


def test_stream_is_newest_first_by_partial_name_and_continues_after_the_cursor(client):
    dataset_with_items(client, "qa", [{"q": "a"}])
    made = [create_experiment(client, "qa", f"Nightly-{n}") for n in range(5)]
    create_experiment(client, "qa", "other")

    first = stream(client, "experiments/stream", name="nightly", limit=3)
    rest = stream(
        client, "experiments/stream", name="nightly", limit=3, last_retrieved_id=first[-1]["id"]
    )

    assert [entry["id"] for entry in first + rest] == made[::-1]
    assert (
        stream(client, "experiments/stream", name="nightly", project_name="no such project") == []
    )
    in_default = stream(
        client, "experiments/stream", name="Nightly-0", project_name="Default Project"
    )
    assert [entry["name"] for entry in in_default] == ["Nightly-0"]


def test_feedback_score_names_come_from_the_experiments_traces(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": "a"}])
    first = create_experiment(client, "qa", "a")
    second = create_experiment(client, "qa", "b")
    record_runs(client, first, [RunSpec(item_ids[0], scores={"accuracy": 1, "tone": 0.5})])
    record_runs(client, second, [RunSpec(item_ids[0], scores={"latency_ok": 1})])

    only_first = get_json(
        client, f"{API}/experiments/feedback-scores/names", experiment_ids=json.dumps([first])
    )
    everything = get_json(client, f"{API}/experiments/feedback-scores/names")

    assert [score["name"] for score in only_first["scores"]] == ["accuracy", "tone"]
    assert [score["name"] for score in everything["scores"]] == ["accuracy", "latency_ok", "tone"]


def test_other_workspaces_see_nothing(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": "a"}])
    experiment_id = create_experiment(client, "qa")
    item_id = new_id()
    send(
        client,
        "POST",
        "experiments/items",
        {
            "experiment_items": [
                {
                    "id": item_id,
                    "experiment_id": experiment_id,
                    "dataset_item_id": item_ids[0],
                    "trace_id": new_id(),
                }
            ]
        },
    )

    assert client.get(f"{API}/experiments/{experiment_id}", headers=OTHER).status_code == 404
    assert client.get(f"{API}/experiments/items/{item_id}", headers=OTHER).status_code == 404
    assert client.get(f"{API}/experiments", headers=OTHER).json()["total"] == 0
    assert (
        client.patch(
            f"{API}/experiments/{experiment_id}", json={"name": "x"}, headers=OTHER
        ).status_code
        == 404
    )
    client.post(f"{API}/experiments/delete", json={"ids": [experiment_id]}, headers=OTHER)
    assert get_experiment(client, experiment_id)["name"] == "run"


def test_bulk_upload_records_whole_runs_into_a_new_or_existing_experiment(client):
    dataset_id, item_ids = dataset_with_items(client, "qa", [{"q": "a"}, {"q": "b"}])
    experiment_id = new_id()
    trace_id = new_id()
    body = {
        "experiment_name": "imported",
        "dataset_name": "qa",
        "experiment_id": experiment_id,
        "items": [
            {
                "dataset_item_id": item_ids[0],
                "evaluate_task_result": {"answer": "A"},
                "feedback_scores": [{"name": "acc", "value": 1, "source": "sdk"}],
            },
            {
                "dataset_item_id": item_ids[1],
                "trace": {
                    "id": trace_id,
                    "start_time": "2024-05-01T00:00:00Z",
                    "end_time": "2024-05-01T00:00:00.300Z",
                    "output": {"answer": "B"},
                },
                "spans": [
                    {
                        "start_time": "2024-05-01T00:00:00Z",
                        "type": "llm",
                        "usage": {"prompt_tokens": 4},
                        "total_estimated_cost": 0.2,
                    }
                ],
            },
        ],
    }

    send(client, "PUT", "experiments/items/bulk", body)
    send(
        client, "PUT", "experiments/items/bulk", {**body, "items": body["items"][:1]}
    )  # into the same experiment

    found = get_experiment(client, experiment_id)
    assert (found["name"], found["trace_count"], found["dataset_item_count"]) == ("imported", 3, 2)
    assert (found["total_estimated_cost"], found["usage"]) == (0.2, {"prompt_tokens": 4})
    # Runs sent as a task result alone get a trace that starts and ends at once.
    assert found["duration"]["p99"] == pytest.approx(percentile([0, 0, 300], 99))
    page = get_json(
        client,
        f"{API}/datasets/{dataset_id}/items/experiments/items",
        experiment_ids=json.dumps([experiment_id]),
    )
    outputs = sorted(
        run["output"]["answer"] for row in page["content"] for run in row["experiment_items"]
    )
    assert outputs == ["A", "A", "B"]
    both = {**body["items"][1], "evaluate_task_result": {"answer": "B"}}
    response = client.put(f"{API}/experiments/items/bulk", json={**body, "items": [both]})
    assert response.status_code == 400 and response.json()["code"] == 400
    unknown_dataset = {**body, "experiment_id": new_id(), "dataset_name": "nope"}
    assert client.put(f"{API}/experiments/items/bulk", json=unknown_dataset).status_code == 404
