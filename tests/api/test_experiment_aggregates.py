"""What an experiment's traces add up to — counts, score averages, duration percentiles,
cost, usage, evaluation-suite pass rates — checked against numbers computed here, on
both engines, however late the pieces arrive."""

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
    score,
)
from tests.api.opik_http import API, create_dataset, get_json, put_items

SUITE = "suite_assertion"


def averages(experiment: dict, field: str = "feedback_scores") -> dict[str, float]:
    return {entry["name"]: entry["value"] for entry in experiment.get(field, [])}


def test_aggregates_add_up_traces_spans_and_scores(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": n} for n in range(5)])
    experiment_id = create_experiment(client, "qa")
    runs = [
        RunSpec(
            item_ids[0],
            120,
            scores={"acc": 1, "tone": 0.25},
            spans=[{"cost": 0.01, "usage": {"prompt_tokens": 10, "completion_tokens": 3}}],
        ),
        RunSpec(
            item_ids[1],
            80,
            scores={"acc": 0},
            spans=[
                {"cost": 0.02, "usage": {"prompt_tokens": 7}},
                {"cost": 0.005, "usage": {"prompt_tokens": 5}},
            ],
        ),
        RunSpec(item_ids[2], 300.5, scores={"acc": 0.5, "tone": 1}),
        RunSpec(item_ids[3], 55, spans=[{"usage": {"completion_tokens": 9}}]),
        RunSpec(item_ids[4], 1000, scores={"acc": 1}, spans=[{"cost": 0.1}]),
        RunSpec(item_ids[4], 240, scores={"acc": 0.25}),  # a second run of the same item
    ]
    record_runs(client, experiment_id, runs)

    found = get_experiment(client, experiment_id)

    assert (found["trace_count"], found["dataset_item_count"]) == (6, 5)
    assert averages(found) == pytest.approx(
        {"acc": (1 + 0 + 0.5 + 1 + 0.25) / 5, "tone": (0.25 + 1) / 2}
    )
    durations = [run.duration_ms for run in runs]
    for name, percent in (("p50", 50), ("p90", 90), ("p99", 99)):
        assert found["duration"][name] == pytest.approx(percentile(durations, percent))
    trace_costs = [0.01, 0.025, 0.1]  # per trace with any cost: the sum of its spans'
    assert found["total_estimated_cost"] == pytest.approx(sum(trace_costs))
    assert found["total_estimated_cost_avg"] == pytest.approx(sum(trace_costs) / len(trace_costs))
    # Per key, over the traces that report it, each trace's spans summed.
    assert found["usage"] == pytest.approx(
        {"prompt_tokens": (10 + 12) / 2, "completion_tokens": (3 + 9) / 2}
    )


def test_percentiles_of_one_and_of_two_traces(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": 1}, {"q": 2}])
    one = create_experiment(client, "qa", "one")
    two = create_experiment(client, "qa", "two")
    record_runs(client, one, [RunSpec(item_ids[0], 42)])
    record_runs(client, two, [RunSpec(item_ids[0], 10), RunSpec(item_ids[1], 20)])

    assert get_experiment(client, one)["duration"] == {"p50": 42, "p90": 42, "p99": 42}
    assert get_experiment(client, two)["duration"] == pytest.approx(
        {"p50": 15, "p90": 19, "p99": 19.9}
    )


def test_late_scores_and_several_authors_count_as_soon_as_they_arrive(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": 1}, {"q": 2}])
    experiment_id = create_experiment(client, "qa")
    first, second = RunSpec(item_ids[0]), RunSpec(item_ids[1])
    record_runs(client, experiment_id, [first, second])
    assert "feedback_scores" not in get_experiment(client, experiment_id)

    score(client, first.trace_id, "helpful", 1, author="alice")
    score(client, first.trace_id, "helpful", 0, author="bob")
    score(client, second.trace_id, "helpful", 1, author="alice")
    # A trace's score is its authors' average (0.5 and 1), then averaged over traces.
    assert averages(get_experiment(client, experiment_id)) == {"helpful": pytest.approx(0.75)}

    score(client, first.trace_id, "helpful", 1, author="bob")  # bob changes his mind
    listed = get_json(client, f"{API}/experiments")["content"][0]
    assert averages(listed) == {"helpful": pytest.approx(1.0)}
    assert averages(get_experiment(client, experiment_id)) == {"helpful": pytest.approx(1.0)}


def test_a_trace_arriving_after_its_item_and_scores_completes_the_aggregates(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": 1}])
    experiment_id = create_experiment(client, "qa")
    run = RunSpec(item_ids[0], 250)
    client.post(
        f"{API}/experiments/items",
        json={
            "experiment_items": [
                {
                    "experiment_id": experiment_id,
                    "dataset_item_id": run.dataset_item_id,
                    "trace_id": run.trace_id,
                }
            ]
        },
    )
    score(client, run.trace_id, "acc", 0.5)

    before = get_experiment(client, experiment_id)
    assert (before["trace_count"], averages(before), before.get("duration")) == (
        1,
        {"acc": 0.5},
        None,
    )

    record_runs(client, experiment_id, [run])  # the trace (and the item again) at last
    after = get_experiment(client, experiment_id)
    assert (after["trace_count"], after["duration"]["p50"]) == (1, 250)


def test_evaluation_suite_pass_rate_follows_the_execution_policy(client):
    dataset_id = create_dataset(client, "suite", type="evaluation_suite")
    item_ids = [new_id() for _ in range(3)]
    put_items(
        client,
        dataset_id,
        [{"id": item_id, "data": {"q": n}} for n, item_id in enumerate(item_ids)],
    )
    experiment_id = create_experiment(client, "suite", "suite run")
    policy = {"runs_per_item": 3, "pass_threshold": 2}
    # Per item, three runs, each with two assertions (1 passed, 0 failed).
    verdicts = {
        item_ids[0]: [(1, 1), (1, 1), (0, 1)],  # 2 of 3 runs pass: the item passes
        item_ids[1]: [(1, 1), (1, 0), (0, 0)],  # 1 of 3: fails
        item_ids[2]: [(1, 1), (1, 1), (1, 1)],  # 3 of 3: passes
    }
    runs, assertions = [], []
    for item_id, item_verdicts in verdicts.items():
        for concise, polite in item_verdicts:
            run = RunSpec(item_id, 100, scores={"helpful": 0.5 * concise}, execution_policy=policy)
            runs.append(run)
            assertions.append((run.trace_id, concise, polite))
    record_runs(client, experiment_id, runs)
    for trace_id, concise, polite in assertions:
        score(client, trace_id, "is concise", concise, category_name=SUITE)
        score(client, trace_id, "is polite", polite, category_name=SUITE)

    found = get_experiment(client, experiment_id)

    passed_items = sum(
        1
        for item_verdicts in verdicts.values()
        if sum(all(run) for run in item_verdicts) >= policy["pass_threshold"]
    )
    assert found["evaluation_method"] == "evaluation_suite"
    assert (found["passed_count"], found["total_count"]) == (passed_items, 3)
    assert found["pass_rate"] == pytest.approx(passed_items / 3)
    assert averages(found, "assertion_scores") == pytest.approx(
        {
            "is concise": sum(a[1] for a in assertions) / 9,
            "is polite": sum(a[2] for a in assertions) / 9,
        }
    )
    # Assertions are not feedback scores.
    assert averages(found) == pytest.approx({"helpful": sum(0.5 * a[1] for a in assertions) / 9})

    # A late failing verdict on a passing item's run turns that item into a failure.
    failing_run = next(trace_id for trace_id, concise, polite in assertions[6:] if concise)
    score(client, failing_run, "is polite", 0, category_name=SUITE, author="reviewer")
    assert get_experiment(client, experiment_id)["passed_count"] == passed_items
    score(client, assertions[7][0], "is concise", 0, category_name=SUITE, author="reviewer")
    assert get_experiment(client, experiment_id)["passed_count"] == passed_items - 1


def test_plain_experiments_have_no_pass_rate(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": 1}])
    experiment_id = create_experiment(client, "qa")
    record_runs(client, experiment_id, [RunSpec(item_ids[0], scores={"acc": 1})])

    found = get_experiment(client, experiment_id)
    assert not {"pass_rate", "passed_count", "total_count", "assertion_scores"} & set(found)


def test_experiments_sort_and_filter_on_their_aggregates(client):
    _, item_ids = dataset_with_items(client, "qa", [{"q": n} for n in range(3)])
    specs = {
        "slow-good": [RunSpec(item_ids[0], 900, scores={"acc": 1}, spans=[{"cost": 0.3}])],
        "fast-bad": [RunSpec(i, 10, scores={"acc": 0}, spans=[{"cost": 0.01}]) for i in item_ids],
        "middling": [RunSpec(i, 300, scores={"acc": 0.5}) for i in item_ids[:2]],
    }
    f1 = {"slow-good": 0.9, "fast-bad": 0.1, "middling": 0.5}
    for name, runs in specs.items():
        record_runs(
            client,
            create_experiment(
                client, "qa", name, experiment_scores=[{"name": "f1", "value": f1[name]}]
            ),
            runs,
        )

    def listed(**params) -> list[str]:
        return [e["name"] for e in get_json(client, f"{API}/experiments", **params)["content"]]

    def sort(field: str, direction: str = "DESC") -> list[str]:
        return listed(sorting=json.dumps([{"field": field, "direction": direction}]))

    assert sort("feedback_scores.acc") == ["slow-good", "middling", "fast-bad"]
    assert sort("feedback_scores.acc", "ASC") == ["fast-bad", "middling", "slow-good"]
    assert sort("trace_count", "ASC") == ["slow-good", "middling", "fast-bad"]
    assert sort("duration.p50") == ["slow-good", "middling", "fast-bad"]
    # Experiments without any cost sort last either way.
    assert sort("total_estimated_cost") == ["slow-good", "fast-bad", "middling"]
    assert sort("experiment_scores.f1", "ASC") == ["fast-bad", "middling", "slow-good"]
    at_least_half = [{"field": "feedback_scores", "key": "acc", "operator": ">=", "value": "0.5"}]
    assert listed(filters=json.dumps(at_least_half)) == ["middling", "slow-good"]
    unscored = [{"field": "feedback_scores", "key": "tone", "operator": "is_empty", "value": ""}]
    assert len(listed(filters=json.dumps(unscored))) == 3
    many_traces = [{"field": "trace_count", "operator": ">", "value": "1"}]
    assert listed(filters=json.dumps(many_traces)) == ["middling", "fast-bad"]
    assert "feedback_scores.acc" in get_json(client, f"{API}/experiments")["sortableBy"]


def test_usage_and_cost_averages_keep_their_fractions(client):
    _, item_ids = dataset_with_items(client, "fractions", [{"q": "a"}, {"q": "b"}])
    experiment_id = create_experiment(client, "fractions")
    record_runs(
        client,
        experiment_id,
        [
            RunSpec(item_ids[0], spans=[{"cost": 0.25, "usage": {"prompt_tokens": 10}}]),
            RunSpec(
                item_ids[1],
                spans=[
                    {"cost": 0.5, "usage": {"prompt_tokens": 5}},
                    {"usage": {"prompt_tokens": 0}},
                ],
            ),
        ],
    )

    found = get_experiment(client, experiment_id)

    assert found["usage"] == pytest.approx({"prompt_tokens": 7.5})
    assert found["total_estimated_cost"] == pytest.approx(0.75)
    assert found["total_estimated_cost_avg"] == pytest.approx(0.375)
