"""Experiment aggregates and the compare view at scale, on SQLite and PostgreSQL.

For each engine it starts ``seedbed serve``, loads a dataset of N items (default
100,000) and E experiments over it (default 3: N traces with durations and outputs, two
feedback scores per trace, one span with usage and cost per trace, N experiment items),
all through the Opik-compatible HTTP API, then measures (median of 15):

- ``GET /v1/private/experiments?datasetId=…`` (every aggregate of every experiment);
- a compare-view page: ``GET /v1/private/datasets/{id}/items/experiments/items`` over all
  experiments, filtered on a feedback score and sorted by it, 100 rows.

Each is set against the physical floor on the same machine: one pass of the engine over
the same rows (a single SQL statement joining experiment items, traces, spans and
scores, run in-process), so the ratio says how far the API is from reading the data once.

Usage: python bench/experiments.py [--items 100000] [--experiments 3] [--engines sqlite,postgresql]
"""

import argparse
import datetime as dt
import gzip
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa
from harness import engine_database, median_ms, running_server

from seedbed.domain import ids
from seedbed.storage import migrate
from seedbed.storage.database import Database

BATCH = 1000
GZIP_JSON = {"content-type": "application/json", "content-encoding": "gzip"}
FLOOR_SQL = """
SELECT count(*), avg(t.duration_ms), sum(s.total_estimated_cost), avg(f.value)
FROM experiment_items AS i
JOIN traces AS t ON t.id = i.trace_id
LEFT JOIN spans AS s ON s.trace_id = t.id
LEFT JOIN feedback_scores AS f ON f.entity_id = t.id AND f.name = 'accuracy'
WHERE i.experiment_id IN ({ids})
"""


def send_all(client: httpx.Client, method: str, path: str, key: str, rows: list[dict]) -> None:
    """Send rows in gzip batches of 1,000 from 4 threads, as the Opik client does."""

    def send(start: int) -> None:
        body = gzip.compress(json.dumps({key: rows[start : start + BATCH]}).encode())
        client.request(method, path, content=body, headers=GZIP_JSON).raise_for_status()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(0, len(rows), BATCH)))


def load(client: httpx.Client, items: int, experiments: int) -> tuple[str, list[str]]:
    item_ids = [ids.new_id() for _ in range(items)]
    client.post("/datasets", json={"name": "bench"}).raise_for_status()
    rows = [
        {
            "id": item_id,
            "source": "sdk",
            "data": {"input": f"question {n}", "expected": f"answer {n}"},
        }
        for n, item_id in enumerate(item_ids)
    ]
    items_body = [
        {"dataset_name": "bench", "items": rows[start : start + BATCH]}
        for start in range(0, items, BATCH)
    ]
    for body in items_body:
        client.put("/datasets/items", json=body).raise_for_status()
    dataset_id = client.post("/datasets/retrieve", json={"dataset_name": "bench"}).json()["id"]
    experiment_ids = []
    start = dt.datetime(2026, 1, 1)
    for number in range(experiments):
        experiment_id = ids.new_id()
        client.post(
            "/experiments",
            json={"id": experiment_id, "name": f"run-{number}", "dataset_name": "bench"},
        ).raise_for_status()
        traces, spans, scores, links = [], [], [], []
        for n, item_id in enumerate(item_ids):
            trace_id = ids.new_id()
            began = start + dt.timedelta(seconds=n)
            ended = began + dt.timedelta(milliseconds=random.randint(50, 5000))
            traces.append(
                {
                    "id": trace_id,
                    "project_name": "bench",
                    "name": "task",
                    "start_time": began.isoformat() + "Z",
                    "end_time": ended.isoformat() + "Z",
                    "input": {"input": f"question {n}"},
                    "output": {"output": f"answer {n}" if random.random() < 0.7 else "wrong"},
                }
            )
            spans.append(
                {
                    "id": ids.new_id(),
                    "trace_id": trace_id,
                    "project_name": "bench",
                    "type": "llm",
                    "name": "llm",
                    "start_time": began.isoformat() + "Z",
                    "end_time": ended.isoformat() + "Z",
                    "usage": {
                        "prompt_tokens": random.randint(10, 500),
                        "completion_tokens": random.randint(5, 200),
                    },
                    "total_estimated_cost": random.random() / 1000,
                }
            )
            scores.append(
                {
                    "id": trace_id,
                    "project_name": "bench",
                    "name": "accuracy",
                    "value": random.random(),
                    "source": "sdk",
                }
            )
            scores.append(
                {
                    "id": trace_id,
                    "project_name": "bench",
                    "name": "relevance",
                    "value": random.random(),
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
        send_all(client, "POST", "/traces/batch", "traces", traces)
        send_all(client, "POST", "/spans/batch", "spans", spans)
        send_all(client, "PUT", "/traces/feedback-scores", "scores", scores)
        send_all(client, "POST", "/experiments/items", "experiment_items", links)
        experiment_ids.append(experiment_id)
    return dataset_id, experiment_ids


def bench_engine(name: str, url: str, items: int, experiments: int) -> dict:
    database = Database(url)
    migrate.upgrade(database)
    try:
        with (
            running_server(url) as base,
            httpx.Client(base_url=f"{base}/api/v1/private", timeout=600) as client,
        ):
            started = time.perf_counter()
            dataset_id, experiment_ids = load(client, items, experiments)
            load_seconds = time.perf_counter() - started
            found = client.get("/experiments", params={"datasetId": dataset_id, "size": 10}).json()
            assert found["total"] == experiments and all(
                e["trace_count"] == items for e in found["content"]
            ), found
            find_ms = median_ms(
                lambda: client.get(
                    "/experiments", params={"datasetId": dataset_id}
                ).raise_for_status()
            )
            compare_params = {
                "experiment_ids": json.dumps(experiment_ids),
                "filters": json.dumps(
                    [
                        {
                            "field": "feedback_scores",
                            "key": "accuracy",
                            "operator": ">=",
                            "value": "0.5",
                        }
                    ]
                ),
                "sorting": json.dumps([{"field": "feedback_scores.accuracy", "direction": "DESC"}]),
                "size": 100,
            }
            compare_path = f"/datasets/{dataset_id}/items/experiments/items"
            page = client.get(compare_path, params=compare_params).json()
            assert len(page["content"]) == 100, page
            compare_ms = median_ms(
                lambda: client.get(compare_path, params=compare_params).raise_for_status()
            )
        floor_sql = sa.text(FLOOR_SQL.format(ids=", ".join(f"'{e}'" for e in experiment_ids)))

        def one_pass() -> None:
            with database.reading() as connection:
                connection.execute(floor_sql).all()

        floor_ms = median_ms(one_pass)
    finally:
        database.dispose()
    return {
        "engine": name,
        "load_s": load_seconds,
        "find_ms": find_ms,
        "compare_ms": compare_ms,
        "floor_ms": floor_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--experiments", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    for name in args.engines.split(","):
        with engine_database(name) as url:
            results.append(bench_engine(name, url, args.items, args.experiments))
    print(f"{args.items} items x {args.experiments} experiments")
    print(
        f"{'engine':<11} {'load s':>7} {'find ms':>8} {'ratio':>6} {'compare ms':>11} {'ratio':>6} {'one pass ms':>12}"
    )
    for r in results:
        print(
            f"{r['engine']:<11} {r['load_s']:>7.0f} {r['find_ms']:>8.1f} {r['find_ms'] / r['floor_ms']:>6.2f} "
            f"{r['compare_ms']:>11.1f} {r['compare_ms'] / r['floor_ms']:>6.2f} {r['floor_ms']:>12.1f}"
        )


if __name__ == "__main__":
    main()
