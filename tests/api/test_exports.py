"""Dataset export jobs: ready at once, pinned to the version they were asked for."""

import csv
import io
import uuid

from tests.api.opik_http import API, create_dataset, get_json, put_items


def download(client, job_id: str) -> list[dict]:
    response = client.get(f"{API}/datasets/export-jobs/{job_id}/download")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_an_export_holds_the_items_as_they_were_when_asked_for(client):
    dataset_id = create_dataset(client, "faq")
    put_items(
        client, dataset_id, [{"data": {"q": "one", "meta": {"lang": "en"}}}, {"data": {"q": "two"}}]
    )

    response = client.post(f"{API}/datasets/{dataset_id}/export")
    put_items(client, dataset_id, [{"data": {"q": "three, added later"}}])

    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["dataset_id"], job["dataset_name"]) == (
        "COMPLETED",
        dataset_id,
        "faq",
    )
    rows = download(client, job["id"])
    assert sorted(row["q"] for row in rows) == ["one", "two"]
    assert {row["meta"] for row in rows} == {'{"lang": "en"}', ""}


def test_jobs_are_listed_newest_first_and_can_be_marked_viewed(client):
    first, second = create_dataset(client, "a"), create_dataset(client, "b")
    put_items(client, first, [{"data": {"q": "x"}}])
    older = client.post(f"{API}/datasets/{first}/export").json()
    newer = client.post(f"{API}/datasets/{second}/export").json()

    response = client.get(f"{API}/datasets/export-jobs")
    assert [job["id"] for job in response.json()][:2] == [newer["id"], older["id"]]
    assert download(client, newer["id"]) == []

    assert client.put(f"{API}/datasets/export-jobs/{older['id']}/mark-viewed").status_code == 204
    assert "viewed_at" in get_json(client, f"{API}/datasets/export-jobs/{older['id']}")
    assert "viewed_at" not in get_json(client, f"{API}/datasets/export-jobs/{newer['id']}")


def test_unknown_jobs_and_datasets_are_not_found(client):
    missing = str(uuid.uuid4())
    for response in (
        client.get(f"{API}/datasets/export-jobs/{missing}"),
        client.get(f"{API}/datasets/export-jobs/{missing}/download"),
        client.put(f"{API}/datasets/export-jobs/{missing}/mark-viewed"),
        client.post(f"{API}/datasets/{missing}/export"),
    ):
        assert response.status_code == 404 and response.json()["errors"]


def test_another_workspace_cannot_see_or_download_an_export(client):
    dataset_id = create_dataset(client, "private")
    put_items(client, dataset_id, [{"data": {"q": "secret"}}])
    job = client.post(f"{API}/datasets/{dataset_id}/export").json()
    elsewhere = {"Comet-Workspace": "someone-else"}

    assert (
        client.get(
            f"{API}/datasets/export-jobs/{job['id']}/download", headers=elsewhere
        ).status_code
        == 404
    )
    assert client.get(f"{API}/datasets/export-jobs", headers=elsewhere).json() == []


def test_a_download_of_many_pages_holds_every_item_under_every_column(client):
    """The download is written a page of items at a time; its columns are every key any
    item has, in the order a reader going newest first meets them."""
    dataset_id = create_dataset(client, "large")
    put_items(
        client, dataset_id, [{"data": {"question": "the oldest", "n": -1, "only_here": True}}]
    )
    for start in range(0, 4500, 1000):
        batch = range(start, min(start + 1000, 4500))
        put_items(client, dataset_id, [{"data": {"question": f"q{n}", "n": n}} for n in batch])
    job = client.post(f"{API}/datasets/{dataset_id}/export").json()

    response = client.get(f"{API}/datasets/export-jobs/{job['id']}/download")

    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header[-1] == "only_here" and sorted(header) == ["n", "only_here", "question"]
    by_column = [dict(zip(header, row, strict=True)) for row in rows]
    assert sorted(int(row["n"]) for row in by_column) == list(range(-1, 4500))
    assert [row["only_here"] for row in by_column if row["n"] == "-1"] == ["True"]
