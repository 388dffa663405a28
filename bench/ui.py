"""Server time of the web UI's pages at 100,000 items, as a ratio to the API call that
reads the same thing, on SQLite and PostgreSQL, over real HTTP.

For each engine it starts ``seedbed serve``, inserts N items (default 100,000) through the
Opik API, makes v2 with 1% of the items changed, 0.5% added and 0.5% deleted
(``POST …/items/changes``), then measures the median time of:

1. the dataset page (``GET /datasets/{id}``: 25 items of the latest version, the columns,
   the version history) against the Opik API's page of 25 items
   (``GET …/datasets/{id}/items?size=25``);
2. the same page searched (``?search=…``: a text match over every item) against the API
   with the same filter (``full_data contains …``);
3. the diff of v1 and v2 (``GET /datasets/{id}/diff?from=v1&to=v2``: counts of each kind
   and the first 50 differences) against the API's page of 50 items of v2
   (``…/items?version=v2&size=50``) — the API has no version-to-version diff — and
   against the same comparison run in-process through the service (so the ratio is the
   page's own overhead: HTTP and rendering);
4. the compare page of 3 experiments over the N items (``GET /experiments/compare?ids=…``:
   every score's averages, differences and paired test over all items, every item's
   change counted, 25 rows) against the API's compare view of the same experiments, 25
   rows (``GET …/datasets/{id}/items/experiments/items``), unfiltered and filtered to
   regressed items, page 2.

Usage: python bench/ui.py [--items 100000] [--engines sqlite,postgresql]
"""

import argparse
import json
import random

import httpx
from datasets import insert_over_http, make_item
from experiments import load as load_experiments
from harness import engine_database, median_ms, running_server

from seedbed.services import version_diffs
from seedbed.services.context import Caller
from seedbed.storage import migrate
from seedbed.storage.database import Database

PAGE = {"accept": "text/html"}
SEARCH = "number 4242 "
CHANGED, ADDED, DELETED = 0.01, 0.005, 0.005


def make_v2(client: httpx.Client, dataset_id: str, items: list[dict]) -> None:
    chosen = random.sample(items, int(len(items) * (CHANGED + DELETED)))
    split = int(len(items) * CHANGED)
    edited = [
        {"id": item["id"], "data": {**item["data"], "expected_output": "Rewritten answer"}}
        for item in chosen[:split]
    ]
    added = [{"data": make_item(len(items) + n)["data"]} for n in range(int(len(items) * ADDED))]
    latest = client.get(f"/datasets/{dataset_id}/versions", params={"size": 1}).json()
    client.post(
        f"/datasets/{dataset_id}/items/changes",
        json={
            "base_version": latest["content"][0]["id"],
            "added_items": added,
            "edited_items": edited,
            "deleted_ids": [item["id"] for item in chosen[split:]],
            "change_description": "bench: 1% changed, 0.5% added, 0.5% deleted",
        },
    ).raise_for_status()


def measure(name: str, url: str, count: int) -> list[tuple[str, float, float, str]]:
    database = Database(url)
    migrate.upgrade(database)
    items = [make_item(number) for number in range(count)]
    rows = []
    try:
        with running_server(url) as base:
            insert_over_http(base, "bench", items)
            with (
                httpx.Client(base_url=f"{base}/api/v1/private", timeout=300) as api,
                httpx.Client(base_url=base, timeout=300, headers=PAGE) as browser,
            ):
                dataset_id = api.post("/datasets/retrieve", json={"dataset_name": "bench"}).json()[
                    "id"
                ]
                make_v2(api, dataset_id, items)
                listing = f"/datasets/{dataset_id}/items"
                page = f"/datasets/{dataset_id}"

                def get(client: httpx.Client, path: str, **params) -> None:
                    answer = client.get(path, params=params).raise_for_status()
                    problem = answer.text.partition('role="alert">')[2][:300]
                    assert not problem, f"{path}: {problem}"

                rows.append(
                    (
                        "dataset page (25 items)",
                        median_ms(lambda: get(browser, page)),
                        median_ms(lambda: get(api, listing, size=25)),
                        "API page of 25 items",
                    )
                )
                search = json.dumps(
                    [{"field": "full_data", "operator": "contains", "value": SEARCH}]
                )
                rows.append(
                    (
                        "dataset page, searched",
                        median_ms(lambda: get(browser, page, search=SEARCH), repeat=5),
                        median_ms(lambda: get(api, listing, size=25, filters=search), repeat=5),
                        "API with the same filter",
                    )
                )
                diff_ms = median_ms(
                    lambda: get(browser, f"{page}/diff", **{"from": "v1", "to": "v2"}), repeat=5
                )
                rows.append(
                    (
                        "diff v1 -> v2 (first 50)",
                        diff_ms,
                        median_ms(lambda: get(api, listing, size=50, version="v2"), repeat=5),
                        "API page of 50 items of v2",
                    )
                )

        def compare_in_process() -> None:
            with database.reading() as connection:
                version_diffs.compare_versions(
                    connection, Caller(), dataset_id, "v1", "v2", size=50
                )

        rows.append(
            (
                "diff v1 -> v2 (first 50)",
                diff_ms,
                median_ms(compare_in_process, repeat=5),
                "the same diff in-process",
            )
        )
    finally:
        database.dispose()
    return [(name, *row) for row in rows]


def measure_compare(name: str, url: str, count: int, runs: int = 3) -> list[tuple]:
    """The compare page of ``runs`` experiments over ``count`` items (each item scored
    twice per experiment, loaded as ``bench/experiments.py`` loads them) against the API's
    compare view of the same experiments, 25 rows: the page also tests every score over
    every item and counts every item's change, so it reads all the scores."""
    database = Database(url)
    migrate.upgrade(database)
    try:
        with (
            running_server(url) as base,
            httpx.Client(base_url=f"{base}/api/v1/private", timeout=600) as api,
            httpx.Client(base_url=base, timeout=600, headers=PAGE) as browser,
        ):
            dataset_id, experiment_ids = load_experiments(api, count, runs)
            ids = ",".join(experiment_ids)
            view = f"/datasets/{dataset_id}/items/experiments/items"

            def page(**params) -> None:
                answer = browser.get("/experiments/compare", params={"ids": ids, **params})
                answer.raise_for_status()
                assert 'role="alert"' not in answer.text, answer.text[:300]

            def api_view() -> None:
                api.get(
                    view, params={"experiment_ids": json.dumps(experiment_ids), "size": 25}
                ).raise_for_status()

            api_ms = median_ms(api_view, repeat=5)
            return [
                (
                    name,
                    f"compare page ({runs} runs)",
                    median_ms(page, repeat=5),
                    api_ms,
                    "API compare view, 25 rows",
                ),
                (
                    name,
                    "compare page, regressed p2",
                    median_ms(lambda: page(change="regressed", page=2), repeat=5),
                    api_ms,
                    "API compare view, 25 rows",
                ),
            ]
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    for name in args.engines.split(","):
        with engine_database(name) as url:
            results += measure(name, url, args.items)
        with engine_database(name) as url:
            results += measure_compare(name, url, args.items)
    print(f"{args.items} items; median server time over HTTP, ms")
    print(f"{'engine':<11} {'page':<26} {'page ms':>8} {'against':<28} {'ms':>8} {'ratio':>6}")
    for engine, what, page_ms, other_ms, against in results:
        print(
            f"{engine:<11} {what:<26} {page_ms:>8.1f} {against:<28} {other_ms:>8.1f} "
            f"{page_ms / other_ms:>6.2f}"
        )


if __name__ == "__main__":
    main()
