"""Comparing experiments through the service, on data written through the Opik API the
way its client writes it: items scored by several runs, items left unscored, paging
and the change filter, and the refusals."""

import pytest

from seedbed.domain import ids
from seedbed.domain.errors import InvalidInput, NotFound
from seedbed.services import experiment_comparison
from seedbed.services.context import Caller

API = "/v1/private"


def _dataset(client, name: str, count: int) -> tuple[str, list[str]]:
    item_ids = [ids.new_id() for _ in range(count)]
    client.post(f"{API}/datasets", json={"name": name}).raise_for_status()
    client.put(
        f"{API}/datasets/items",
        json={
            "dataset_name": name,
            "items": [{"id": item_id, "data": {"n": n}} for n, item_id in enumerate(item_ids)],
        },
    ).raise_for_status()
    return name, item_ids


def _experiment(client, dataset: str, runs: dict[str, list[float | None]]) -> str:
    """An experiment whose runs of each item got these accuracy scores (None: a run
    with no score)."""
    experiment_id = ids.new_id()
    client.post(
        f"{API}/experiments",
        json={"id": experiment_id, "name": f"run {experiment_id[-4:]}", "dataset_name": dataset},
    ).raise_for_status()
    traces, scores, links = [], [], []
    for item_id, values in runs.items():
        for value in values:
            trace_id = ids.new_id()
            traces.append(
                {
                    "id": trace_id,
                    "project_name": "p",
                    "name": "task",
                    "start_time": "2026-01-01T00:00:00Z",
                    "end_time": "2026-01-01T00:00:01Z",
                    "output": {"answer": f"{value}"},
                }
            )
            if value is not None:
                scores.append(
                    {
                        "id": trace_id,
                        "project_name": "p",
                        "name": "accuracy",
                        "value": value,
                        "source": "sdk",
                    }
                )
            links.append(
                {
                    "id": ids.new_id(),
                    "experiment_id": experiment_id,
                    "dataset_item_id": item_id,
                    "trace_id": trace_id,
                }
            )
    client.post(f"{API}/traces/batch", json={"traces": traces}).raise_for_status()
    if scores:
        client.put(f"{API}/traces/feedback-scores", json={"scores": scores}).raise_for_status()
    client.post(f"{API}/experiments/items", json={"experiment_items": links}).raise_for_status()
    return experiment_id


def test_runs_are_averaged_per_item_and_unscored_items_still_listed(client, database):
    dataset, (first, second, third) = _dataset(client, "qa", 3)
    # The baseline ran the first item twice (0 and 1: 0.5) and left the third unscored.
    baseline = _experiment(client, dataset, {first: [0.0, 1.0], second: [1.0], third: [None]})
    candidate = _experiment(client, dataset, {first: [1.0], second: [0.0], third: [1.0]})

    with database.reading() as connection:
        found = experiment_comparison.compare_experiments(
            connection, Caller(), [baseline, candidate], size=2
        )
    (accuracy,) = found.scores
    assert accuracy.averages == [0.75, pytest.approx(2 / 3)]
    assert accuracy.tests[1].pairs == 2  # the third item has no baseline score
    assert found.changes == {"improved": 1, "regressed": 1, "unchanged": 1, "mixed": 0}
    assert found.total == 3
    assert [row.item_id for row in found.rows] == [first, second]
    assert [len(runs) for runs in found.rows[0].runs] == [2, 1]
    assert found.rows[0].item.data == {"n": 0}

    with database.reading() as connection:
        regressed = experiment_comparison.compare_experiments(
            connection, Caller(), [baseline, candidate], change="regressed"
        )
        last_page = experiment_comparison.compare_experiments(
            connection, Caller(), [baseline, candidate], page=2, size=2
        )
    assert [row.item_id for row in regressed.rows] == [second]
    assert [row.item_id for row in last_page.rows] == [third]
    assert last_page.rows[0].change == "unchanged"


def test_experiments_of_other_datasets_or_workspaces_are_refused(client, database):
    dataset, (item,) = _dataset(client, "one", 1)
    other, (other_item,) = _dataset(client, "two", 1)
    first = _experiment(client, dataset, {item: [1.0]})
    elsewhere = _experiment(client, other, {other_item: [1.0]})
    with database.reading() as connection:
        with pytest.raises(InvalidInput, match="different datasets"):
            experiment_comparison.compare_experiments(connection, Caller(), [first, elsewhere])
        with pytest.raises(NotFound):
            experiment_comparison.compare_experiments(
                connection, Caller(workspace="someone-else"), [first, elsewhere]
            )
        with pytest.raises(InvalidInput, match="change must be one of"):
            experiment_comparison.compare_experiments(
                connection, Caller(), [first, first], change="better"
            )
    with pytest.raises(InvalidInput, match="named twice"):
        experiment_comparison.parse_experiment_ids(f"{first},{first}")
    with pytest.raises(InvalidInput, match="between 2 and 5"):
        experiment_comparison.parse_experiment_ids(first)
