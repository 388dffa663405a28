"""``opik.evaluation.evaluate()`` from the unmodified Opik client against ``seedbed serve``,
then reading the experiment back the ways a user would: by name, its items, the
dataset's experiments, its aggregates and the compare view. Every expected number is
computed here from what the task and metrics did and from the traces read back."""

import datetime as dt
import json
import time

import httpx
import pytest
from opik import tracing_runtime_config
from opik.api_objects import opik_client as opik_client_module
from opik.api_objects.experiment.bulk_item import (
    ExperimentItemBulkRecord,
    ExperimentItemBulkSpan,
    ExperimentItemBulkTrace,
)
from opik.evaluation import evaluate
from opik.evaluation.metrics import Equals, base_metric, score_result

pytestmark = [
    pytest.mark.compat,
    pytest.mark.usefixtures("offline_llm_judge_library"),
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

ITEMS = 50


@pytest.fixture(autouse=True)
def client_as_a_user_has_it(opik_env, monkeypatch):
    """Tracing on (the shared fixtures turn it off; without it the client drops the task's
    output from the trace), and evaluate()'s process-wide client made afresh for this
    test's server. The client caches both per process, so both are reset afterwards."""
    monkeypatch.delenv("OPIK_TRACK_DISABLE")
    tracing_runtime_config.reset_tracing_to_config_default()
    opik_client_module.reset_global_client()
    yield
    opik_client_module.reset_global_client()
    tracing_runtime_config.reset_tracing_to_config_default()


class QuestionNumber(base_metric.BaseMetric):
    """A score that differs per item: the item's number over 100."""

    def __init__(self) -> None:
        super().__init__(name="question_number", track=False)

    def score(self, number: int, **ignored) -> score_result.ScoreResult:
        return score_result.ScoreResult(name=self.name, value=number / 100)


def answer(item: dict) -> dict:
    """The app under test: right for two questions in three; slower for some."""
    time.sleep(0.001 * (item["number"] % 7))
    right = item["number"] % 3 != 0
    return {"output": item["reference"] if right else "I do not know"}


def percentile(values: list[float], percent: int) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def _duration_ms(trace) -> float:
    return (trace.end_time - trace.start_time).total_seconds() * 1000


def test_evaluate_then_read_the_experiment_back(opik_client, server):
    dataset = opik_client.create_dataset("capitals")
    dataset.insert(
        [
            {"question": f"What is capital #{n}?", "reference": f"City {n}", "number": n}
            for n in range(ITEMS)
        ]
    )

    result = evaluate(
        dataset=dataset,
        task=answer,
        scoring_metrics=[Equals(), QuestionNumber()],
        experiment_name="capitals-v1",
        task_threads=4,
        verbose=0,
    )

    experiment = opik_client.get_experiment_by_name("capitals-v1")
    assert experiment.id == result.experiment_id
    assert [found.id for found in opik_client.get_dataset_experiments("capitals")] == [
        experiment.id
    ]

    # Every item came back once, with the output the task gave and the scores it earned.
    items = experiment.get_items()
    assert len(items) == ITEMS
    assert len({item.dataset_item_id for item in items}) == ITEMS
    expected_equals = {}
    for item in items:
        number = item.dataset_item_data["number"]
        scores = {score["name"]: score["value"] for score in item.feedback_scores}
        expected_equals[item.trace_id] = 1.0 if number % 3 != 0 else 0.0
        assert item.evaluation_task_output == answer(item.dataset_item_data)
        assert scores == {
            "equals_metric": expected_equals[item.trace_id],
            "question_number": number / 100,
        }

    # Aggregates, against the traces as the server stored them.
    durations = [_duration_ms(opik_client.get_trace_content(item.trace_id)) for item in items]
    summary = opik_client.rest_client.experiments.get_experiment_by_id(experiment.id)
    assert summary.trace_count == ITEMS
    assert summary.dataset_item_count == ITEMS
    averages = {score.name: score.value for score in summary.feedback_scores}
    assert averages["equals_metric"] == pytest.approx(sum(expected_equals.values()) / ITEMS)
    assert averages["question_number"] == pytest.approx(sum(range(ITEMS)) / 100 / ITEMS)
    for name, percent in (("p50", 50), ("p90", 90), ("p99", 99)):
        assert getattr(summary.duration, name) == pytest.approx(
            percentile(durations, percent), abs=0.01
        )
    assert summary.dataset_version_summary.version_name == "v1"

    # The compare view, filtered on a score and sorted on another, as the UI asks for it.
    page = httpx.get(
        f"{server}/api/v1/private/datasets/{dataset.id}/items/experiments/items",
        params={
            "experiment_ids": json.dumps([experiment.id]),
            "filters": json.dumps(
                [
                    {
                        "field": "feedback_scores",
                        "key": "equals_metric",
                        "operator": "=",
                        "value": "0",
                    }
                ]
            ),
            "sorting": json.dumps(
                [{"field": "feedback_scores.question_number", "direction": "DESC"}]
            ),
            "size": 100,
        },
        headers={"Comet-Workspace": "default"},
    ).json()
    wrong = sorted((n for n in range(ITEMS) if n % 3 == 0), reverse=True)
    assert page["total"] == len(wrong)
    assert [row["data"]["number"] for row in page["content"]] == wrong
    assert all(
        row["experiment_items"][0]["output"] == {"output": "I do not know"}
        for row in page["content"]
    )


def test_batch_upload_records_runs_an_experiment_did_elsewhere(opik_client):
    dataset = opik_client.create_dataset("offline")
    dataset.insert([{"question": f"q{n}", "number": n} for n in range(4)])
    by_number = {item["number"]: item["id"] for item in dataset.get_items()}
    experiment = opik_client.create_experiment(dataset_name="offline", name="imported")
    start = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)

    experiment.batch_upload_items(
        [
            ExperimentItemBulkRecord(
                dataset_item_id=by_number[0],
                evaluate_task_result={"answer": "a0"},
                feedback_scores=[{"name": "acc", "value": 1.0}],
            ),
            ExperimentItemBulkRecord(
                dataset_item_id=by_number[1],
                trace=ExperimentItemBulkTrace(
                    start_time=start,
                    end_time=start + dt.timedelta(milliseconds=250),
                    output={"answer": "a1"},
                ),
                spans=[
                    ExperimentItemBulkSpan(
                        start_time=start,
                        type="llm",
                        usage={"prompt_tokens": 12},
                        total_estimated_cost=0.5,
                    )
                ],
                feedback_scores=[{"name": "acc", "value": 0.0}],
            ),
        ]
    )

    items = {item.dataset_item_id: item for item in experiment.get_items()}
    assert items[by_number[0]].evaluation_task_output == {"answer": "a0"}
    assert items[by_number[1]].evaluation_task_output == {"answer": "a1"}
    assert [score["value"] for score in items[by_number[1]].feedback_scores] == [0.0]
    summary = experiment.get_experiment_data()
    assert (summary.trace_count, summary.total_estimated_cost, summary.usage) == (
        2,
        0.5,
        {"prompt_tokens": 12.0},
    )
    assert {score.name: score.value for score in summary.feedback_scores} == {"acc": 0.5}
