"""Experiment calls shared by the experiment tests: experiments, and runs made of traces,
spans, feedback scores and experiment items sent the way the Opik client sends them
(batches, in no fixed order)."""

import datetime as dt
import json
from dataclasses import dataclass, field

from seedbed.domain import ids
from tests.api.opik_http import API, create_dataset, get_json, put_items

T0 = dt.datetime(2024, 5, 1, 12, 0, 0)
PROJECT = "Default Project"


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def new_id() -> str:
    """A time-ordered id (UUIDv7), as the Opik client makes them."""
    return ids.new_id()


def dataset_with_items(
    client, name: str, rows: list[dict], headers: dict | None = None
) -> tuple[str, list[str]]:
    """A dataset holding one item per row of data; returns its id and the item ids."""
    dataset_id = create_dataset(client, name, headers=headers)
    item_ids = [new_id() for _ in rows]
    put_items(
        client,
        dataset_id,
        [{"id": i, "data": row} for i, row in zip(item_ids, rows, strict=True)],
        headers=headers,
    )
    return dataset_id, item_ids


def create_experiment(
    client, dataset_name: str, name: str = "run", headers: dict | None = None, **fields
) -> str:
    experiment_id = fields.pop("id", None) or new_id()
    response = client.post(
        f"{API}/experiments",
        json={"id": experiment_id, "dataset_name": dataset_name, "name": name, **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return experiment_id


def get_experiment(client, experiment_id: str) -> dict:
    return get_json(client, f"{API}/experiments/{experiment_id}")


def send(client, method: str, path: str, body: dict, status: int = 204) -> None:
    response = client.request(method, f"{API}/{path}", json=body)
    assert response.status_code == status, response.text


def score(client, trace_id: str, name: str, value: float, **fields) -> None:
    send(
        client,
        "PUT",
        "traces/feedback-scores",
        {"scores": [{"id": trace_id, "name": name, "value": value, "source": "sdk", **fields}]},
    )


@dataclass
class RunSpec:
    """One run of an app over a dataset item, as the test wants it recorded."""

    dataset_item_id: str
    duration_ms: float = 100.0
    output: dict | None = None
    scores: dict[str, float] = field(default_factory=dict)
    spans: list[dict] = field(default_factory=list)  # each {"cost": float, "usage": {...}}
    execution_policy: dict | None = None
    trace_id: str = field(default_factory=new_id)


def record_runs(client, experiment_id: str, runs: list[RunSpec]) -> None:
    """Send the runs' experiment items, scores, spans and traces — in that order, the
    reverse of how they happen, as a client's background batches may deliver them."""
    send(
        client,
        "POST",
        "experiments/items",
        {
            "experiment_items": [
                {
                    "id": new_id(),
                    "experiment_id": experiment_id,
                    "dataset_item_id": run.dataset_item_id,
                    "trace_id": run.trace_id,
                    **({"execution_policy": run.execution_policy} if run.execution_policy else {}),
                }
                for run in runs
            ]
        },
    )
    scores = [
        {"id": run.trace_id, "name": name, "value": value, "source": "sdk"}
        for run in runs
        for name, value in run.scores.items()
    ]
    if scores:
        send(client, "PUT", "traces/feedback-scores", {"scores": scores})
    spans = [
        {
            "id": new_id(),
            "trace_id": run.trace_id,
            "project_name": PROJECT,
            "type": "llm",
            "name": "llm call",
            "start_time": iso(T0),
            "end_time": iso(T0 + dt.timedelta(milliseconds=1)),
            "usage": span.get("usage", {}),
            **({"total_estimated_cost": span["cost"]} if "cost" in span else {}),
        }
        for run in runs
        for span in run.spans
    ]
    if spans:
        send(client, "POST", "spans/batch", {"spans": spans})
    traces = [
        {
            "id": run.trace_id,
            "project_name": PROJECT,
            "name": "evaluation_task",
            "start_time": iso(T0),
            "end_time": iso(T0 + dt.timedelta(milliseconds=run.duration_ms)),
            "input": {"item": run.dataset_item_id},
            "output": run.output or {},
        }
        for run in runs
    ]
    send(client, "POST", "traces/batch", {"traces": traces})


def compare(
    client, dataset_id: str, experiment_ids: list[str], headers: dict | None = None, **params
) -> dict:
    return get_json(
        client,
        f"{API}/datasets/{dataset_id}/items/experiments/items",
        headers=headers,
        experiment_ids=json.dumps(experiment_ids),
        **params,
    )


def percentile(values: list[float], percent: int) -> float:
    """Linear interpolation between the closest ranks (numpy's and percentile_cont's)."""
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])
