"""Dataset throughput and latency, on SQLite and PostgreSQL, over real HTTP.

For each engine it starts ``seedbed serve``, then measures:

1. inserting N items (default 100,000) through ``PUT /v1/private/datasets/items`` in
   gzip-compressed batches of 1,000, sent by 4 parallel clients sharing one
   ``batch_group_id`` (what the Opik client does), against the engine's own bulk insert
   of the same rows (SQLAlchemy executemany into a copy of the items table: the
   "physical limit" of the engine on this machine);
2. a filtered, sorted page (``data.category = …`` and ``data.score > …``, sorted by
   ``data.score`` DESC, 100 rows) and a plain first page, over HTTP, against the same
   query run in-process through the repository (so the ratio is the API's overhead).

Usage: python bench/datasets.py [--items 100000] [--engines sqlite,postgresql]
"""

import argparse
import concurrent.futures
import datetime as dt
import gc
import gzip
import json
import random
import time
import uuid

import httpx
import sqlalchemy as sa
from harness import engine_database, median_ms, running_server

from seedbed.api.opik.queries import parse_filters, parse_sorting
from seedbed.domain import ids
from seedbed.domain.items import ITEM_FIELDS
from seedbed.storage import migrate
from seedbed.storage.database import Database
from seedbed.storage.repositories.items import ItemRepository
from seedbed.storage.tables import dataset_items

BATCH = 1000
CATEGORIES = ["billing", "shipping", "returns", "account", "other"]
FILTERS = json.dumps(
    [
        {"field": "data", "key": "category", "operator": "=", "value": "billing"},
        {"field": "data", "key": "score", "operator": ">", "value": "50"},
    ]
)
SORTING = json.dumps([{"field": "data.score", "direction": "DESC"}])


def make_item(number: int) -> dict:
    return {
        "id": ids.new_id(),
        "source": "sdk",
        "data": {
            "input": f"Customer question number {number} about an order that never arrived",
            "expected_output": f"Answer {number}: apologise, check the tracking id, offer a refund",
            "category": CATEGORIES[number % len(CATEGORIES)],
            "score": random.randint(0, 100),
        },
    }


def insert_over_http(base: str, dataset: str, items: list[dict]) -> float:
    group = str(uuid.uuid4())
    bodies = [
        gzip.compress(
            json.dumps(
                {
                    "dataset_name": dataset,
                    "batch_group_id": group,
                    "items": items[start : start + BATCH],
                }
            ).encode()
        )
        for start in range(0, len(items), BATCH)
    ]
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    with httpx.Client(base_url=f"{base}/api/v1/private", timeout=300) as client:
        client.post("/datasets", json={"name": dataset}).raise_for_status()

        def send(body: bytes) -> None:
            client.put("/datasets/items", content=body, headers=headers).raise_for_status()

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(send, bodies))
        return time.perf_counter() - started


def stream_all(client: httpx.Client, dataset: str, page_size: int = 2000) -> int:
    """Every item through ``POST …/datasets/items/stream``, paging as the Opik client
    does (``last_retrieved_id``); ``client`` is based at ``…/v1/private``. Returns how
    many items came."""
    count, last = 0, None
    while True:
        body = {
            "dataset_name": dataset,
            "steam_limit": page_size,
            **({"last_retrieved_id": last} if last else {}),
        }
        lines = (
            client.post("/datasets/items/stream", json=body).raise_for_status().text.splitlines()
        )
        count += len(lines)
        if len(lines) < page_size:
            return count
        last = json.loads(lines[-1])["id"]


def insert_directly(database: Database, items: list[dict]) -> float:
    """The engine's own bulk insert of the same rows, into a scratch copy of the table."""
    scratch = sa.Table(
        "bench_items", sa.MetaData(), *[column._copy() for column in dataset_items.columns]
    )
    scratch.create(database.engine)
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [
        {
            "dataset_id": "bench",
            "item_id": item["id"],
            "valid_from": 1,
            "valid_to": None,
            "source": "sdk",
            "data": item["data"],
            "tags": [],
            "content_hash": "0" * 64,
            "created_at": stamp,
            "created_by": "bench",
            "last_updated_at": stamp,
            "last_updated_by": "bench",
        }
        for item in items
    ]
    try:
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            with database.writing() as connection:
                connection.execute(scratch.insert(), rows[start : start + BATCH])
        return time.perf_counter() - started
    finally:
        scratch.drop(database.engine)


def bench_engine(name: str, url: str, count: int) -> dict:
    database = Database(url)
    migrate.upgrade(database)
    items = [make_item(number) for number in range(count)]
    # The items (and their gzip bodies) live through both measurements: out of the garbage
    # collector's sight, its full collections no longer stall the four senders (or the
    # direct insert) at once, and what is timed is the server and the engine.
    gc.freeze()
    try:
        with running_server(url) as base:
            api_seconds = insert_over_http(base, "bench", items)
            direct_seconds = insert_directly(database, items)
            with httpx.Client(base_url=f"{base}/api/v1/private", timeout=60) as client:
                dataset_id = client.post(
                    "/datasets/retrieve", json={"dataset_name": "bench"}
                ).json()["id"]
                listing = f"/datasets/{dataset_id}/items"
                total = client.get(listing, params={"size": 1}).json()["total"]
                filtered_ms = median_ms(
                    lambda: client.get(
                        listing, params={"size": 100, "filters": FILTERS, "sorting": SORTING}
                    ).raise_for_status()
                )
                first_page_ms = median_ms(
                    lambda: client.get(listing, params={"size": 100}).raise_for_status()
                )
        filters, sort = parse_filters(FILTERS, ITEM_FIELDS), parse_sorting(SORTING, ITEM_FIELDS)

        def direct_page() -> None:
            with database.reading() as connection:
                ItemRepository(connection).page(dataset_id, None, filters, sort, 1, 100)

        direct_filtered_ms = median_ms(direct_page)
    finally:
        database.dispose()
    assert total == count, f"{name}: expected {count} items, found {total}"
    return {
        "engine": name,
        "items": count,
        "api_items_per_s": count / api_seconds,
        "direct_items_per_s": count / direct_seconds,
        "filtered_page_ms": filtered_ms,
        "direct_filtered_page_ms": direct_filtered_ms,
        "first_page_ms": first_page_ms,
    }


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
            results.append(bench_engine(name, url, args.items))
    print(
        f"{'engine':<11} {'items':>7} {'API items/s':>12} {'engine items/s':>15} {'ratio':>6} "
        f"{'filtered page ms':>17} {'in-process ms':>14} {'ratio':>6} {'first page ms':>14}"
    )
    for r in results:
        print(
            f"{r['engine']:<11} {r['items']:>7} {r['api_items_per_s']:>12.0f} {r['direct_items_per_s']:>15.0f} "
            f"{r['api_items_per_s'] / r['direct_items_per_s']:>6.2f} {r['filtered_page_ms']:>17.1f} "
            f"{r['direct_filtered_page_ms']:>14.1f} {r['filtered_page_ms'] / r['direct_filtered_page_ms']:>6.2f} "
            f"{r['first_page_ms']:>14.1f}"
        )


if __name__ == "__main__":
    main()
