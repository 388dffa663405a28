"""The compare view (``GET datasets/{id}/items/experiments/items``): a dataset's items
with the runs chosen experiments made of them, filtered, sorted, searched and paged,
with its stats and output columns. Expected rows are worked out here from the runs."""

import json
from dataclasses import dataclass

import pytest

from tests.api.experiment_http import (
    RunSpec,
    compare,
    create_experiment,
    dataset_with_items,
    new_id,
    percentile,
    record_runs,
)
from tests.api.opik_http import API, get_json, put_items

ITEMS = 6
A_DURATIONS = [300, 100, 500, 200, 600, 400]


@dataclass
class Scenario:
    dataset_id: str
    item_ids: list[str]
    a: str  # experiment over every item
    b: str  # experiment over the first four
    a_runs: dict[int, RunSpec]
    b_runs: dict[int, RunSpec]


def _a_run(item_id: str, n: int) -> RunSpec:
    scores = {"equals_metric": 1 if n % 3 else 0}
    if n != 5:
        scores["quality"] = n / 10
    answer = "Refund approved" if n == 3 else f"Answer {n}"
    return RunSpec(
        item_id,
        A_DURATIONS[n],
        output={"answer": answer},
        scores=scores,
        spans=[{"cost": 0.01 * (n + 1), "usage": {"prompt_tokens": 10 + n}}],
    )


def _b_run(item_id: str, n: int) -> RunSpec:
    return RunSpec(
        item_id,
        50 * (n + 1),
        output={"answer": f"B{n}", "confidence": 0.9},
        scores={"equals_metric": 1, "quality": 0.2 * n + 0.05},
    )


@pytest.fixture
def scenario(client) -> Scenario:
    rows = [
        {"question": f"Question {n}", "n": n, "topic": "billing" if n % 2 else "shipping"}
        for n in range(ITEMS)
    ]
    dataset_id, item_ids = dataset_with_items(client, "support", rows)
    a = create_experiment(client, "support", "A")
    b = create_experiment(client, "support", "B")
    a_runs = {n: _a_run(item_ids[n], n) for n in range(ITEMS)}
    b_runs = {n: _b_run(item_ids[n], n) for n in range(4)}
    record_runs(client, a, list(a_runs.values()))
    record_runs(client, b, list(b_runs.values()))
    return Scenario(dataset_id, item_ids, a, b, a_runs, b_runs)


def numbers(page: dict) -> list[int]:
    return [row["data"]["n"] for row in page["content"]]


def flt(field: str, operator: str, value: str = "", key: str | None = None) -> dict:
    return {"field": field, "operator": operator, "value": value, **({"key": key} if key else {})}


def view(client, s: Scenario, experiments: list[str], **params) -> dict:
    for name in ("filters", "sorting"):
        if name in params:
            params[name] = json.dumps(params[name])
    return compare(client, s.dataset_id, experiments, size=100, **params)


def test_rows_are_the_items_the_experiments_ran_each_with_its_runs(client, scenario):
    s = scenario
    both = view(client, s, [s.a, s.b])

    assert both["total"] == ITEMS and sorted(numbers(both)) == list(range(ITEMS))
    for row in both["content"]:
        n = row["data"]["n"]
        runs = {run["experiment_id"]: run for run in row["experiment_items"]}
        assert set(runs) == ({s.a, s.b} if n < 4 else {s.a})
        run, spec = runs[s.a], s.a_runs[n]
        assert (run["dataset_item_id"], run["trace_id"]) == (s.item_ids[n], spec.trace_id)
        assert (run["output"], run["input"], run["duration"]) == (
            spec.output,
            {"item": s.item_ids[n]},
            spec.duration_ms,
        )
        assert {score["name"]: score["value"] for score in run["feedback_scores"]} == spec.scores
        assert run["total_estimated_cost"] == pytest.approx(0.01 * (n + 1))
        assert run["usage"] == {"prompt_tokens": 10 + n}
    assert sorted(numbers(view(client, s, [s.b]))) == [0, 1, 2, 3]
    assert {"columns", "sortableBy"} <= set(both)
    assert {"data.question", "feedback_scores.quality", "duration"} <= set(both["sortableBy"])


def test_run_filters_keep_matching_runs_and_the_items_that_have_one(client, scenario):
    s = scenario

    right = view(client, s, [s.a], filters=[flt("feedback_scores", ">=", "1", key="equals_metric")])
    assert sorted(numbers(right)) == [n for n in range(ITEMS) if n % 3]
    wrong = view(
        client, s, [s.a, s.b], filters=[flt("feedback_scores", "=", "0", key="equals_metric")]
    )
    assert sorted(numbers(wrong)) == [0, 3]
    assert all(
        [run["experiment_id"] for run in row["experiment_items"]] == [s.a]
        for row in wrong["content"]
    )
    unscored = view(client, s, [s.a], filters=[flt("feedback_scores", "is_empty", key="quality")])
    assert numbers(unscored) == [5]
    slow = view(client, s, [s.a], filters=[flt("duration", ">", "350")])
    assert sorted(numbers(slow)) == [n for n, ms in enumerate(A_DURATIONS) if ms > 350]
    answers = view(client, s, [s.a], filters=[flt("output", "contains", "answer", key="answer")])
    assert sorted(numbers(answers)) == [0, 1, 2, 4, 5]
    dotted = view(client, s, [s.a], filters=[flt("output.answer", "starts_with", "refund")])
    assert numbers(dotted) == [3]


def test_item_filters_combine_with_run_filters(client, scenario):
    s = scenario
    billing = [flt("data", "=", "billing", key="topic")]

    assert sorted(numbers(view(client, s, [s.a], filters=billing))) == [1, 3, 5]
    combined = billing + [flt("feedback_scores", ">=", "1", key="equals_metric")]
    assert sorted(numbers(view(client, s, [s.a], filters=combined))) == [1, 5]
    by_number = [flt("data.n", ">", "3")]
    assert sorted(numbers(view(client, s, [s.a, s.b], filters=by_number))) == [4, 5]


def test_sorting_on_scores_duration_data_and_id(client, scenario):
    s = scenario

    def order(experiments, field, direction):
        return numbers(
            view(client, s, experiments, sorting=[{"field": field, "direction": direction}])
        )

    def quality(n: int, runs: list[dict[int, RunSpec]]) -> float | None:
        values = [r[n].scores["quality"] for r in runs if n in r and "quality" in r[n].scores]
        return sum(values) / len(values) if values else None

    for runs, experiments in (([s.a_runs], [s.a]), ([s.a_runs, s.b_runs], [s.a, s.b])):
        scored = sorted(
            (n for n in range(ITEMS) if quality(n, runs) is not None),
            key=lambda n: -quality(n, runs),
        )
        unscored = [n for n in range(ITEMS) if quality(n, runs) is None]
        assert order(experiments, "feedback_scores.quality", "DESC") == scored + unscored
        assert order(experiments, "feedback_scores.quality", "ASC") == scored[::-1] + unscored
    assert order([s.a], "duration", "ASC") == sorted(range(ITEMS), key=lambda n: A_DURATIONS[n])
    assert order([s.a], "data.n", "DESC") == list(range(ITEMS))[::-1]
    by_id = sorted(range(ITEMS), key=lambda n: s.item_ids[n])
    assert order([s.a], "id", "ASC") == by_id


def test_search_looks_in_item_data_and_outputs_ignoring_case(client, scenario):
    s = scenario

    assert numbers(view(client, s, [s.a], search="REFUND")) == [3]
    assert numbers(view(client, s, [s.a], search="question 4")) == [4]
    assert len(numbers(view(client, s, [s.a], search="QUESTION"))) == ITEMS
    assert numbers(view(client, s, [s.b], search="refund")) == []
    assert numbers(view(client, s, [s.a], search="100%")) == []


def test_pages_cover_every_row_once(client, scenario):
    s = scenario
    seen = []
    for page in (1, 2, 3):
        found = compare(client, s.dataset_id, [s.a], page=page, size=4)
        assert (found["total"], found["page"]) == (ITEMS, page)
        seen += numbers(found)
    assert sorted(seen) == list(range(ITEMS))
    assert compare(client, s.dataset_id, [s.a], page=3, size=4)["content"] == []


def test_items_show_the_data_of_the_version_their_experiment_ran_on(client):
    dataset_id, item_ids = dataset_with_items(client, "qa", [{"q": "old wording"}])
    before = create_experiment(client, "qa", "before")
    record_runs(client, before, [RunSpec(item_ids[0])])
    put_items(client, dataset_id, [{"id": item_ids[0], "data": {"q": "new wording"}}])
    after = create_experiment(client, "qa", "after")
    record_runs(client, after, [RunSpec(item_ids[0])])

    assert compare(client, dataset_id, [before])["content"][0]["data"] == {"q": "old wording"}
    assert compare(client, dataset_id, [after])["content"][0]["data"] == {"q": "new wording"}
    both = compare(client, dataset_id, [before, after])["content"]
    assert len(both) == 1 and len(both[0]["experiment_items"]) == 2
    assert both[0]["data"] == {"q": "new wording"}


def test_truncate_shortens_long_values(client):
    dataset_id, item_ids = dataset_with_items(client, "images", [{"image": "x" * 20_000}])
    experiment_id = create_experiment(client, "images")
    record_runs(client, experiment_id, [RunSpec(item_ids[0], output={"echo": "y" * 20_000})])

    short = compare(client, dataset_id, [experiment_id], truncate="true")["content"][0]
    full = compare(client, dataset_id, [experiment_id])["content"][0]

    assert len(full["data"]["image"]) == 20_000 and len(short["data"]["image"]) < 20_000
    assert len(short["experiment_items"][0]["output"]["echo"]) < 20_000


def test_stats_add_up_the_matching_runs(client, scenario):
    s = scenario
    stats_path = f"{API}/datasets/{s.dataset_id}/items/experiments/items/stats"

    def stats(**params) -> dict:
        found = get_json(client, stats_path, experiment_ids=json.dumps([s.a]), **params)["stats"]
        return {entry["name"]: entry["value"] for entry in found}

    everything = stats()
    assert (everything["experiment_items_count"], everything["trace_count"]) == (ITEMS, ITEMS)
    assert everything["feedback_scores.equals_metric"] == pytest.approx(4 / 6)
    assert everything["duration"]["p90"] == pytest.approx(percentile(A_DURATIONS, 90))
    assert everything["total_estimated_cost"] == pytest.approx(
        sum(0.01 * (n + 1) for n in range(ITEMS)) / ITEMS
    )
    right = stats(filters=json.dumps([flt("feedback_scores", ">=", "1", key="equals_metric")]))
    assert right["experiment_items_count"] == 4
    assert right["duration"]["p50"] == pytest.approx(
        percentile([A_DURATIONS[n] for n in (1, 2, 4, 5)], 50)
    )


def test_output_columns_list_the_keys_of_the_outputs(client, scenario):
    s = scenario
    path = f"{API}/datasets/{s.dataset_id}/items/experiments/items/output/columns"

    def columns(**params) -> dict:
        return {
            column["name"]: column["types"]
            for column in get_json(client, path, **params)["columns"]
        }

    assert columns(experiment_ids=json.dumps([s.a])) == {"answer": ["string"]}
    assert columns() == {"answer": ["string"], "confidence": ["number"]}


def test_bad_requests_get_clear_errors(client, scenario):
    s = scenario
    path = f"{API}/datasets/{s.dataset_id}/items/experiments/items"

    unknown = client.get(path, params={"experiment_ids": json.dumps([s.a, new_id()])})
    assert unknown.status_code == 404 and "errors" in unknown.json()
    for params in (
        {},
        {"experiment_ids": "[not json"},
        {"experiment_ids": json.dumps(["nope"])},
        {"experiment_ids": json.dumps([s.a]), "filters": json.dumps([flt("colour", "=", "red")])},
        {
            "experiment_ids": json.dumps([s.a]),
            "filters": json.dumps([flt("feedback_scores", ">", "x", key="q")]),
        },
        {"experiment_ids": json.dumps([s.a]), "sorting": json.dumps([{"field": "output.answer"}])},
    ):
        response = client.get(path, params=params)
        assert (response.status_code, response.json()["code"]) == (400, 400), (
            params,
            response.text,
        )
    missing = client.get(
        f"{API}/datasets/{new_id()}/items/experiments/items",
        params={"experiment_ids": json.dumps([s.a])},
    )
    assert missing.status_code == 404


def test_other_workspaces_cannot_compare(client, scenario):
    s = scenario
    other = {"Comet-Workspace": "elsewhere"}
    path = f"{API}/datasets/{s.dataset_id}/items/experiments/items"
    assert (
        client.get(path, params={"experiment_ids": json.dumps([s.a])}, headers=other).status_code
        == 404
    )

    own_dataset, _ = dataset_with_items(client, "mine", [{"q": 1}], headers=other)
    theirs = client.get(
        f"{API}/datasets/{own_dataset}/items/experiments/items",
        params={"experiment_ids": json.dumps([s.a])},
        headers=other,
    )
    assert theirs.status_code == 404


def test_a_score_filter_a_duration_filter_and_a_sort_on_another_score_apply_together(
    client, scenario
):
    """Only the runs that pass every run filter count, for the rows and for the value
    they sort by."""
    s = scenario
    filters = [
        flt("feedback_scores", ">=", "1", key="equals_metric"),
        flt("duration", "<", "550"),
    ]
    found = view(
        client,
        s,
        [s.a, s.b],
        filters=filters,
        sorting=[{"field": "feedback_scores.quality", "direction": "DESC"}],
    )

    def passes(run: RunSpec) -> bool:
        return run.scores["equals_metric"] >= 1 and run.duration_ms < 550

    def quality(n: int) -> float | None:
        values = [
            runs[n].scores["quality"]
            for runs in (s.a_runs, s.b_runs)
            if n in runs and passes(runs[n]) and "quality" in runs[n].scores
        ]
        return sum(values) / len(values) if values else None

    kept = [n for n in range(ITEMS) if any(n in r and passes(r[n]) for r in (s.a_runs, s.b_runs))]
    scored = sorted((n for n in kept if quality(n) is not None), key=lambda n: -quality(n))
    assert numbers(found) == scored + [n for n in kept if quality(n) is None]
    assert found["total"] == len(kept)
