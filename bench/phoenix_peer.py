"""seedbed against Arize Phoenix: the same dataset and experiment operations, one run.

Installs ``arize-phoenix`` (once) into its own virtualenv ``bench/.venvs/phoenix``,
starts it on SQLite, and runs the same operations on it and on ``seedbed serve``
(SQLite and PostgreSQL), each over its own REST API, with the same rows:

1. insert N items (default 100,000), in the batches each API takes best: seedbed's
   ``PUT /v1/private/datasets/items`` in gzip batches of 1,000 from 4 clients (what the
   Opik client does, ``datasets.insert_over_http``); Phoenix's
   ``POST /v1/datasets/upload?sync=true`` with 5,000 rows a request, one after another
   (its throughput is flat from 5,000 to 20,000 rows a request, and it writes one
   dataset version per request, so parallel requests only queue on SQLite);
2. a filtered, sorted page (``category = billing``, ``score > 50``, ``score`` DESC, 100
   rows). Phoenix has no server-side filter or paging on examples: its equivalent is
   ``GET /v1/datasets/{id}/examples`` (every row) filtered and sorted in the client;
3. reading all N items: seedbed's NDJSON stream (``POST …/datasets/items/stream``,
   pages of 2,000), Phoenix's ``GET /v1/datasets/{id}/examples``;
4. E experiments (default 3) over a dataset of M items (default 3,000), each item with
   one run and one evaluation score. seedbed takes them in batches (traces, feedback
   scores, experiment items: gzip batches of 1,000 from 4 clients); Phoenix's REST API
   takes one run (``POST /v1/experiments/{id}/runs``) and one evaluation
   (``POST /v1/experiment_evaluations``) per request, about 90 a second on this
   machine whatever the concurrency, so 3 × 100,000 of each would take over an hour:
   M is smaller than N, for both tools alike;
5. the experiment listing: seedbed's ``GET /v1/private/experiments?datasetId=…``,
   Phoenix's ``GET /v1/datasets/{id}/experiments``;
6. the per-example comparison of the E experiments, runs with ``accuracy >= 0.5``,
   items sorted by their mean accuracy DESC, 100 rows: seedbed's
   ``GET …/datasets/{id}/items/experiments/items``; Phoenix has no such endpoint in its
   REST API, so its equivalent is ``GET /v1/experiments/{id}/json`` (runs with their
   annotations and example) for each experiment, joined, filtered and sorted in the
   client.

Reads are medians of 5 (after one warm-up). Both tools get identical item contents and
identical scores, and the script checks they return the same totals.

Usage: python bench/phoenix_peer.py [--items 100000] [--experiment-items 3000]
       [--experiments 3] [--engines sqlite,postgresql]
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from datasets import FILTERS, SORTING, insert_over_http, make_item, stream_all
from experiments import send_all
from harness import engine_database, free_port, median_ms, running_server

from seedbed.domain import ids
from seedbed.storage import migrate
from seedbed.storage.database import Database

PHOENIX_VERSION = "20.26.1"
VENV = Path(__file__).parent / ".venvs" / "phoenix"
PHOENIX_BATCH = 5000
READ_REPEAT = 5
SCORE_FILTER = json.dumps(
    [{"field": "feedback_scores", "key": "accuracy", "operator": ">=", "value": "0.5"}]
)
SCORE_SORTING = json.dumps([{"field": "feedback_scores.accuracy", "direction": "DESC"}])
RUN_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


# -- Phoenix, installed and running ---------------------------------------------------------


def install_phoenix() -> Path:
    """``bench/.venvs/phoenix`` with arize-phoenix pinned; built on first use only."""
    marker = VENV / f"arize-phoenix-{PHOENIX_VERSION}.installed"
    if not marker.exists():
        print(
            f"installing arize-phoenix=={PHOENIX_VERSION} into {VENV} (once) ...", file=sys.stderr
        )
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        with open(VENV.parent / "phoenix.install.log", "w") as log:
            subprocess.run(
                [str(VENV / "bin" / "pip"), "install", f"arize-phoenix=={PHOENIX_VERSION}"],
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        marker.touch()
    return VENV / "bin" / "phoenix"


@contextlib.contextmanager
def running_phoenix(executable: Path) -> Iterator[str]:
    """``phoenix serve`` on a fresh SQLite working directory; yields its base URL."""
    workdir = tempfile.mkdtemp(prefix="phoenix-bench-")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PHOENIX_")}
    env.update(
        PHOENIX_WORKING_DIR=workdir,
        PHOENIX_HOST="127.0.0.1",
        PHOENIX_PORT=str(port),
        PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
        PHOENIX_TELEMETRY_ENABLED="false",
    )
    with open(Path(workdir) / "server.log", "w") as log:
        process = subprocess.Popen(
            [str(executable), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"phoenix did not start; see {workdir}/server.log")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(30)


# -- the shared rows and the client-side equivalents --------------------------------------


def experiment_scores(experiments: int, items: int) -> list[list[float]]:
    """The accuracy of every run, the same for both tools."""
    rng = random.Random(7)
    return [[rng.random() for _ in range(items)] for _ in range(experiments)]


def top_filtered(rows: list[dict], size: int = 100) -> list[dict]:
    """The filtered, sorted page, computed in the client (seedbed's FILTERS and SORTING)."""
    kept = [row for row in rows if row["category"] == "billing" and row["score"] > 50]
    return sorted(kept, key=lambda row: -row["score"])[:size]


def compare_in_client(experiment_runs: list[list[dict]], size: int = 100) -> tuple[list, int]:
    """Examples with a run scoring accuracy >= 0.5, by mean matching accuracy DESC."""
    matching: dict[str, list[float]] = {}
    for runs in experiment_runs:
        for run in runs:
            scores = [a["score"] for a in run["annotations"] if a["name"] == "accuracy"]
            if scores and scores[0] >= 0.5:
                matching.setdefault(run["example_id"], []).append(scores[0])
    ranked = sorted(matching.items(), key=lambda entry: -sum(entry[1]) / len(entry[1]))
    return ranked[:size], len(matching)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


# -- seedbed ---------------------------------------------------------------------------------


def seedbed_experiments(client: httpx.Client, scores: list[list[float]]) -> tuple[str, list[str]]:
    """A dataset of M items and one experiment per score list: a trace, an accuracy
    score and an experiment item per item."""
    count = len(scores[0])
    items = [make_item(n) for n in range(count)]
    client.post("/datasets", json={"name": "bench-experiments"}).raise_for_status()
    for start in range(0, count, 1000):
        client.put(
            "/datasets/items",
            json={"dataset_name": "bench-experiments", "items": items[start : start + 1000]},
        ).raise_for_status()
    dataset_id = client.post(
        "/datasets/retrieve", json={"dataset_name": "bench-experiments"}
    ).json()["id"]
    experiment_ids = []
    for number, accuracy in enumerate(scores):
        experiment_id = ids.new_id()
        client.post(
            "/experiments",
            json={
                "id": experiment_id,
                "name": f"run-{number}",
                "dataset_name": "bench-experiments",
            },
        ).raise_for_status()
        traces, feedback, links = [], [], []
        for n, item in enumerate(items):
            trace_id = ids.new_id()
            began = RUN_START + dt.timedelta(seconds=n)
            traces.append(
                {
                    "id": trace_id,
                    "project_name": "bench",
                    "name": "task",
                    "start_time": began.isoformat(),
                    "end_time": (began + dt.timedelta(seconds=1)).isoformat(),
                    "input": {"input": item["data"]["input"]},
                    "output": {"output": f"answer {n}"},
                }
            )
            feedback.append(
                {
                    "id": trace_id,
                    "project_name": "bench",
                    "name": "accuracy",
                    "value": accuracy[n],
                    "source": "sdk",
                }
            )
            links.append(
                {
                    "id": ids.new_id(),
                    "experiment_id": experiment_id,
                    "dataset_item_id": item["id"],
                    "trace_id": trace_id,
                }
            )
        send_all(client, "POST", "/traces/batch", "traces", traces)
        send_all(client, "PUT", "/traces/feedback-scores", "scores", feedback)
        send_all(client, "POST", "/experiments/items", "experiment_items", links)
        experiment_ids.append(experiment_id)
    return dataset_id, experiment_ids


def bench_seedbed(url: str, items: list[dict], scores: list[list[float]]) -> dict:
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    results: dict = {}
    with (
        running_server(url) as base,
        httpx.Client(base_url=f"{base}/api/v1/private", timeout=600) as client,
    ):
        results["insert"] = len(items) / insert_over_http(base, "bench", items)
        dataset_id = client.post("/datasets/retrieve", json={"dataset_name": "bench"}).json()["id"]
        listing = f"/datasets/{dataset_id}/items"
        page_params = {"size": 100, "filters": FILTERS, "sorting": SORTING}
        page = client.get(listing, params=page_params).json()
        results["page_scores"] = [row["data"]["score"] for row in page["content"]]
        results["page"] = median_ms(
            lambda: client.get(listing, params=page_params).raise_for_status().json(), READ_REPEAT
        )
        assert stream_all(client, "bench") == len(items)
        results["read_all"] = median_ms(lambda: stream_all(client, "bench"), READ_REPEAT)

        started = time.perf_counter()
        experiments_dataset, experiment_ids = seedbed_experiments(client, scores)
        results["experiments"] = time.perf_counter() - started
        found = client.get("/experiments", params={"datasetId": experiments_dataset}).json()
        assert found["total"] == len(scores) and all(
            e["trace_count"] == len(scores[0]) for e in found["content"]
        ), found
        results["listing"] = median_ms(
            lambda: (
                client.get("/experiments", params={"datasetId": experiments_dataset})
                .raise_for_status()
                .json()
            ),
            READ_REPEAT,
        )
        compare_path = f"/datasets/{experiments_dataset}/items/experiments/items"
        compare_params = {
            "experiment_ids": json.dumps(experiment_ids),
            "filters": SCORE_FILTER,
            "sorting": SCORE_SORTING,
            "size": 100,
        }
        compared = client.get(compare_path, params=compare_params).json()
        assert len(compared["content"]) == 100, compared
        results["compare_total"] = compared["total"]
        results["compare"] = median_ms(
            lambda: client.get(compare_path, params=compare_params).raise_for_status().json(),
            READ_REPEAT,
        )
    return results


# -- Phoenix ---------------------------------------------------------------------------------


def phoenix_upload(client: httpx.Client, name: str, items: list[dict]) -> str:
    dataset_id = ""
    for start in range(0, len(items), PHOENIX_BATCH):
        batch = items[start : start + PHOENIX_BATCH]
        body = {
            "action": "create" if start == 0 else "append",
            "name": name,
            "inputs": [{"input": item["data"]["input"]} for item in batch],
            "outputs": [{"expected_output": item["data"]["expected_output"]} for item in batch],
            "metadata": [
                {"category": item["data"]["category"], "score": item["data"]["score"]}
                for item in batch
            ],
        }
        dataset_id = (
            client.post("/v1/datasets/upload", params={"sync": "true"}, json=body)
            .raise_for_status()
            .json()["data"]["dataset_id"]
        )
    return dataset_id


def phoenix_examples(client: httpx.Client, dataset_id: str) -> list[dict]:
    return (
        client.get(f"/v1/datasets/{dataset_id}/examples")
        .raise_for_status()
        .json()["data"]["examples"]
    )


def phoenix_page(client: httpx.Client, dataset_id: str) -> list[dict]:
    return top_filtered([example["metadata"] for example in phoenix_examples(client, dataset_id)])


def phoenix_run_and_score(
    client: httpx.Client, experiment_id: str, example_id: str, n: int, accuracy: float
) -> None:
    """One run and its evaluation: Phoenix's REST API takes them one a request."""
    began = RUN_START + dt.timedelta(seconds=n)
    times = {
        "start_time": began.isoformat(),
        "end_time": (began + dt.timedelta(seconds=1)).isoformat(),
    }
    run = (
        client.post(
            f"/v1/experiments/{experiment_id}/runs",
            json={
                "dataset_example_id": example_id,
                "output": {"output": f"answer {n}"},
                "repetition_number": 1,
                **times,
            },
        )
        .raise_for_status()
        .json()["data"]["id"]
    )
    client.post(
        "/v1/experiment_evaluations",
        json={
            "experiment_run_id": run,
            "name": "accuracy",
            "annotator_kind": "CODE",
            "result": {"score": accuracy},
            **times,
        },
    ).raise_for_status()


def phoenix_experiments(client: httpx.Client, scores: list[list[float]]) -> tuple[str, list[str]]:
    count = len(scores[0])
    items = [make_item(n) for n in range(count)]
    dataset_id = phoenix_upload(client, "bench-experiments", items)
    position = {item["data"]["input"]: n for n, item in enumerate(items)}
    example_ids = [""] * count
    for example in phoenix_examples(client, dataset_id):
        example_ids[position[example["input"]["input"]]] = example["id"]
    experiment_ids = []
    for number, accuracy in enumerate(scores):
        experiment_id = (
            client.post(f"/v1/datasets/{dataset_id}/experiments", json={"name": f"run-{number}"})
            .raise_for_status()
            .json()["data"]["id"]
        )
        runs = [(experiment_id, example_ids[n], n, accuracy[n]) for n in range(count)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda run: phoenix_run_and_score(client, *run), runs))
        experiment_ids.append(experiment_id)
    return dataset_id, experiment_ids


def bench_phoenix(executable: Path, items: list[dict], scores: list[list[float]]) -> dict:
    results: dict = {}
    with running_phoenix(executable) as base, httpx.Client(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        dataset_id = phoenix_upload(client, "bench", items)
        results["insert"] = len(items) / (time.perf_counter() - started)
        results["page_scores"] = [row["score"] for row in phoenix_page(client, dataset_id)]
        results["page"] = median_ms(lambda: phoenix_page(client, dataset_id), READ_REPEAT)
        assert len(phoenix_examples(client, dataset_id)) == len(items)
        results["read_all"] = median_ms(lambda: phoenix_examples(client, dataset_id), READ_REPEAT)

        started = time.perf_counter()
        experiments_dataset, experiment_ids = phoenix_experiments(client, scores)
        results["experiments"] = time.perf_counter() - started
        listing = f"/v1/datasets/{experiments_dataset}/experiments"
        found = client.get(listing).json()["data"]
        assert len(found) == len(scores) and all(
            e["successful_run_count"] == len(scores[0]) for e in found
        ), found
        results["listing"] = median_ms(
            lambda: client.get(listing).raise_for_status().json(), READ_REPEAT
        )

        def compare() -> tuple[list, int]:
            runs = [
                client.get(f"/v1/experiments/{e}/json").raise_for_status().json()
                for e in experiment_ids
            ]
            return compare_in_client(runs)

        page, results["compare_total"] = compare()
        assert len(page) == 100
        results["compare"] = median_ms(compare, READ_REPEAT)
    return results


# -- the table -------------------------------------------------------------------------------


def print_table(
    results: dict[str, dict], items: int, experiments: int, experiment_items: int
) -> None:
    rows = [
        ("insert", f"insert {items:,} items, items/s (higher is better)", "{:,.0f}"),
        (
            "page",
            "filtered, sorted page of 100, ms (Phoenix: all examples, filtered in the client)",
            "{:,.0f}",
        ),
        (
            "read_all",
            f"read all {items:,} items, ms (seedbed: NDJSON stream, pages of 2,000)",
            "{:,.0f}",
        ),
        (
            "experiments",
            f"create {experiments} experiments × {experiment_items:,} runs + 1 score each, s",
            "{:,.1f}",
        ),
        ("listing", "experiment listing, ms", "{:,.1f}"),
        (
            "compare",
            (
                "per-example comparison, score ≥ 0.5 by mean score, 100 rows, ms "
                f"(Phoenix: {experiments} × GET /experiments/{{id}}/json, joined in the client)"
            ),
            "{:,.0f}",
        ),
    ]
    columns = ["seedbed SQLite", "seedbed PostgreSQL", "Phoenix (SQLite)"]
    print(
        f"\nphoenix {PHOENIX_VERSION}, {items:,} items, {experiments} experiments × {experiment_items:,} items, "
        f"reads: median of {READ_REPEAT}\n"
    )
    print("| operation | " + " | ".join(columns) + " | ratio Phoenix ÷ seedbed SQLite |")
    print("|---|" + "---:|" * (len(columns) + 1))
    for key, label, shape in rows:
        cells = [shape.format(results[c][key]) if c in results else "–" for c in columns]
        ratio = (
            f"{results['Phoenix (SQLite)'][key] / results['seedbed SQLite'][key]:.2f}"
            if "Phoenix (SQLite)" in results and "seedbed SQLite" in results
            else "–"
        )
        print(f"| {label} | " + " | ".join(cells) + f" | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--experiment-items", type=int, default=3000)
    parser.add_argument("--experiments", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql", help="seedbed's engines")
    parser.add_argument("--skip-phoenix", action="store_true")
    args = parser.parse_args()
    random.seed(11)
    items = [make_item(n) for n in range(args.items)]
    scores = experiment_scores(args.experiments, args.experiment_items)
    results: dict[str, dict] = {}
    for name in args.engines.split(","):
        started = time.perf_counter()
        with engine_database(name) as url:
            results[f"seedbed {'SQLite' if name == 'sqlite' else 'PostgreSQL'}"] = bench_seedbed(
                url, items, scores
            )
        print(f"seedbed {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if not args.skip_phoenix:
        started = time.perf_counter()
        results["Phoenix (SQLite)"] = bench_phoenix(install_phoenix(), items, scores)
        print(f"phoenix: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    # The same rows and scores give the same answers, or the comparison is not like for like.
    for name, found in results.items():
        first = next(iter(results.values()))
        assert found["page_scores"] == first["page_scores"], f"{name}: a different filtered page"
        assert found["compare_total"] == first["compare_total"], (
            f"{name}: a different comparison total"
        )
    print_table(results, args.items, args.experiments, args.experiment_items)


if __name__ == "__main__":
    main()
