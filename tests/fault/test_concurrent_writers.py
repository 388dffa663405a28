"""Twenty clients filling one dataset at once over real HTTP, against a real ``seedbed
serve``, as twenty Opik clients would: each inserts its 1,000 items by dataset name in
batches under one batch group, and reads the dataset (a page of items, the versions)
between batches. Nobody creates the dataset first: the first batches race to create it.

Afterwards the dataset holds exactly the 20,000 items sent, there is one dataset of
that name, its versions are numbered without gaps and each one's total is the previous
total plus what it added, the newest at 20,000; and no request was answered with a 5xx.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

API = "/v1/private"
DATASET = "written by twenty"
CLIENTS = 20
ITEMS_PER_CLIENT = 1_000
BATCH = 100  # items per request; the Opik client's batches are at most 1,000


class Recorder:
    """Every answer's method, path and status, from all threads."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, response: httpx.Response) -> None:
        with self._lock:
            self.answers.append(
                (response.request.method, response.request.url.path, response.status_code)
            )

    def server_errors(self) -> list[tuple[str, str, int]]:
        return [answer for answer in self.answers if answer[2] >= 500]


def fill(base_url: str, client_number: int, record: Recorder) -> dict:
    """One client: insert its items batch by batch, reading in between; returns what it
    sent and what it saw."""
    sent = {str(uuid.uuid4()): {"client": client_number, "n": n} for n in range(ITEMS_PER_CLIENT)}
    ids = list(sent)
    group = str(uuid.uuid4())  # one insert call of the Opik client: one group, many batches
    refused: list[str] = []
    seen_totals: list[tuple[int, int]] = []  # (items this client had written, total it then read)
    with httpx.Client(base_url=base_url, timeout=60, event_hooks={"response": [record]}) as http:
        dataset_id = None
        for start in range(0, ITEMS_PER_CLIENT, BATCH):
            batch = [
                {"id": item_id, "data": sent[item_id]} for item_id in ids[start : start + BATCH]
            ]
            put = http.put(
                f"{API}/datasets/items",
                json={"dataset_name": DATASET, "items": batch, "batch_group_id": group},
            )
            if put.status_code != 204:
                refused.append(f"PUT: {put.status_code} {put.text}")
                continue
            if dataset_id is None:
                found = http.post(f"{API}/datasets/retrieve", json={"dataset_name": DATASET})
                dataset_id = found.json()["id"] if found.status_code == 200 else None
                if dataset_id is None:
                    refused.append(f"retrieve: {found.status_code} {found.text}")
                    continue
            written = start + len(batch)
            if (start // BATCH) % 2 == 0:
                read = http.get(
                    f"{API}/datasets/{dataset_id}/items", params={"page": 1, "size": 50}
                )
                if read.status_code == 200:
                    seen_totals.append((written, read.json()["total"]))
            else:
                read = http.get(f"{API}/datasets/{dataset_id}/versions", params={"size": 5})
            if read.status_code != 200:
                refused.append(f"GET {read.request.url.path}: {read.status_code} {read.text}")
    return {"sent": sent, "refused": refused, "seen_totals": seen_totals}


def all_items(http: httpx.Client, dataset_id: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    page = 1
    while True:
        response = http.get(
            f"{API}/datasets/{dataset_id}/items", params={"page": page, "size": 10_000}
        )
        assert response.status_code == 200, response.text
        content = response.json()["content"]
        found.update({item["id"]: item["data"] for item in content})
        if len(content) < 10_000:
            return found
        page += 1


def all_versions(http: httpx.Client, dataset_id: str) -> list[dict]:
    response = http.get(f"{API}/datasets/{dataset_id}/versions", params={"size": 10_000})
    assert response.status_code == 200, response.text
    listed = response.json()
    assert listed["total"] == len(listed["content"])
    return sorted(
        listed["content"], key=lambda version: int(version["version_name"].removeprefix("v"))
    )


def test_twenty_clients_filling_one_dataset_leave_every_item_and_a_consistent_history(server):
    record = Recorder()

    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = list(pool.map(lambda number: fill(server, number, record), range(CLIENTS)))

    assert record.server_errors() == []
    assert [client["refused"] for client in clients] == [[]] * CLIENTS
    for client in clients:  # a client reads its own writes
        assert all(total >= written for written, total in client["seen_totals"]), client[
            "seen_totals"
        ]
    with httpx.Client(base_url=server, timeout=60) as http:
        named = http.get(f"{API}/datasets", params={"name": DATASET}).json()
        assert [dataset["name"] for dataset in named["content"]] == [DATASET]
        dataset = named["content"][0]
        stored = all_items(http, dataset["id"])
        versions = all_versions(http, dataset["id"])

    sent = {item_id: data for client in clients for item_id, data in client["sent"].items()}
    assert len(sent) == CLIENTS * ITEMS_PER_CLIENT
    assert dataset["dataset_items_count"] == len(sent)
    assert stored == sent
    assert [version["version_name"] for version in versions] == [
        f"v{n}" for n in range(1, len(versions) + 1)
    ]
    assert CLIENTS <= len(versions) <= CLIENTS * ITEMS_PER_CLIENT // BATCH
    previous_total = 0
    for version in versions:
        assert version["items_added"] > 0, version
        assert (version.get("items_modified", 0), version.get("items_deleted", 0)) == (0, 0), (
            version
        )
        assert version["items_total"] == previous_total + version["items_added"], version
        previous_total = version["items_total"]
    assert versions[-1]["is_latest"] and versions[-1]["items_total"] == len(sent)
    assert [version["version_name"] for version in versions if version["is_latest"]] == [
        versions[-1]["version_name"]
    ]
