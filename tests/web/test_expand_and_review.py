"""The whole loop in a real browser: import a file, expand it with a fake LLM (the stub
server, as the server's OpenAI-compatible provider), review the samples (uncheck two,
edit one), add → exactly the kept samples, as edited, in ONE new version."""

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import running_server

SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."},
    {"question": "Can I get a refund?", "answer": "Yes, within 30 days of purchase."},
    {"question": "Do you ship to Canada?", "answer": "Yes, within five business days."},
]
COUNT = 6
# Waiting for a job: generous, for a loaded machine.
JOB_TIMEOUT_MS = 180_000


@pytest.fixture
def llm_web_server(database, database_url, tmp_path) -> Iterator[str]:
    """``seedbed serve`` in local mode whose OpenAI provider is the stub LLM."""
    with StubLLMServer(StubBehaviour(seed=11)) as stub:
        with running_server(
            database_url, tmp_path, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test"
        ) as base_url:
            yield base_url


@pytest.fixture
def slow_llm_web_server(database, database_url, tmp_path) -> Iterator[str]:
    """As ``llm_web_server``, with a stub that takes two seconds a reply."""
    with StubLLMServer(StubBehaviour(seed=11, latency_ms=2000)) as stub:
        with running_server(
            database_url, tmp_path, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test"
        ) as base_url:
            yield base_url


def _import(page: Page, base_url: str) -> str:
    page.goto(f"{base_url}/datasets")
    content = "".join(json.dumps(seed) + "\n" for seed in SEEDS).encode()
    page.get_by_label("File (.jsonl, .json or .csv)").set_input_files(
        files=[{"name": "support.jsonl", "mimeType": "application/octet-stream", "buffer": content}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("support")
    return page.url.rsplit("/", 1)[1].split("?")[0]


def _canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True)


def _latest_items(base_url: str, dataset_id: str) -> list[dict]:
    found = httpx.get(
        f"{base_url}/v1/private/datasets/{dataset_id}/items", params={"size": 100}, timeout=10
    ).json()
    return found["content"]


def test_expand_review_and_add_the_kept_samples_as_one_version(
    page: Page, llm_web_server: str, browser_watch
) -> None:
    base_url = llm_web_server
    dataset_id = _import(page, base_url)

    page.get_by_role("link", name="Expand").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Expand support")
    # The fields with how often each is present, both pre-selected (in every item).
    expect(page.get_by_role("checkbox", name="question", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="answer", exact=True)).to_be_checked()
    expect(page.get_by_text("present in 3 of 3 items (100%)").first).to_be_visible()
    # The pre-flight estimate, before anything starts.
    expect(page.locator('[data-estimate="calls"]')).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator('[data-estimate="cost"]')).to_have_text(re.compile(r"^\$\d+\.\d{4}$"))

    # Counts out of range: a clear message on the page, and no job.
    browser_watch.expect_error_page(f"/datasets/{dataset_id}/expand")
    for count in ("0", "100001"):
        page.get_by_label("Count").fill(count)
        page.get_by_role("button", name="Generate").click()
        expect(page.get_by_role("alert")).to_have_text(
            "Count must be a whole number from 1 to 100,000"
        )
    jobs = httpx.get(f"{base_url}/seedbed/v1/jobs", timeout=10).json()
    assert jobs["total"] == 0

    page.get_by_label("Count").fill(str(COUNT))
    page.get_by_role("button", name="Generate").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    job_id = page.url.rsplit("/", 1)[1]

    # The page follows the job's events and shows the review when it ends.
    add = page.get_by_role("button", name=re.compile(r"^Add"))
    expect(add).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_text(f"{COUNT} of {COUNT} samples accepted")).to_be_visible()
    # The quality report of the run, beside the seeds' own figures.
    quality = page.get_by_role("region", name="Quality")
    expect(quality.get_by_text("Distinct-2 (seeds)")).to_be_visible()
    expect(quality.locator("dd").first).to_have_text(re.compile(r"^[\d.]+ \([\d.]+\)$"))
    boxes = page.get_by_role("checkbox", name=re.compile(r"^Keep sample \d+$"))
    expect(boxes).to_have_count(COUNT)
    for index in range(COUNT):
        expect(boxes.nth(index)).to_be_checked()
    expect(page.locator("td.provenance").first).to_contain_text("openai/gpt-4o-mini")
    # What each sample was asked to be about, and the topics over the run.
    expect(page.locator("td.provenance").first).to_contain_text("About: ")
    expect(quality.get_by_text(re.compile(r"^\d+ topics, most samples first: "))).to_be_visible()

    page.get_by_role("button", name="Deselect all", exact=True).click()
    for index in range(COUNT):
        expect(boxes.nth(index)).not_to_be_checked()
    page.get_by_role("button", name="Select all", exact=True).click()
    for index in range(COUNT):
        expect(boxes.nth(index)).to_be_checked()

    generated = [
        item["data"]
        for item in httpx.get(f"{base_url}/seedbed/v1/jobs/{job_id}/items", timeout=10).json()[
            "content"
        ]
    ]
    assert len(generated) == COUNT
    # An edit that is not JSON: a message on the page, nothing stored, nothing added.
    browser_watch.expect_error_page(f"/jobs/{job_id}/review")
    page.get_by_text("Edit sample 4", exact=True).click()
    page.get_by_label("Sample 4 as JSON", exact=True).fill('{"question": ')
    add.click()
    expect(page.get_by_role("alert")).to_contain_text("Sample 4: the edit is not valid JSON")
    assert len(_latest_items(base_url, dataset_id)) == len(SEEDS)

    page.get_by_role("checkbox", name="Keep sample 1", exact=True).uncheck()
    page.get_by_label("Reason for rejecting sample 1", exact=True).fill("off topic")
    page.get_by_role("checkbox", name="Keep sample 2", exact=True).uncheck()
    edited = {**generated[2], "answer": "Edited by a reviewer."}
    page.get_by_text("Edit sample 3", exact=True).click()
    page.get_by_label("Sample 3 as JSON", exact=True).fill(json.dumps(edited))
    add.click()

    added = f"Added {COUNT - 2} samples as version v2"
    expect(page.get_by_role("status").filter(has_text=added)).to_be_visible()
    expected = [*SEEDS, edited, *generated[3:]]
    items = _latest_items(base_url, dataset_id)
    assert sorted(_canonical(item["data"]) for item in items) == sorted(map(_canonical, expected))
    versions = httpx.get(
        f"{base_url}/v1/private/datasets/{dataset_id}/versions", timeout=10
    ).json()["content"]
    assert [version["version_name"] for version in versions] == ["v2", "v1"]
    assert job_id in versions[0]["change_description"]

    # The rejected samples and the reason stay with the job; it cannot be added twice.
    page.goto(f"{base_url}/jobs/{job_id}")
    expect(page.get_by_role("status").filter(has_text="added as version v2")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Keep sample 1", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Reason for rejecting sample 1", exact=True)).to_have_value(
        "off topic"
    )
    expect(page.get_by_role("button", name=re.compile(r"^Add"))).to_have_count(0)

    page.get_by_role("link", name="Jobs", exact=True).click()
    row = page.locator("tbody tr", has_text="support")
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text(f"{COUNT} / {COUNT}")
    row.get_by_role("link", name=re.compile(r"^Open job")).click()
    expect(page).to_have_url(f"{base_url}/jobs/{job_id}")


def test_a_running_job_shows_its_progress_and_can_be_cancelled(
    page: Page, slow_llm_web_server: str
) -> None:
    base_url = slow_llm_web_server
    _import(page, base_url)
    page.get_by_role("link", name="Expand").click()
    page.get_by_label("Count").fill("500")
    page.get_by_role("button", name="Generate").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    job_id = page.url.rsplit("/", 1)[1]
    expect(page.locator('[data-job="status"]')).to_have_text("running", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_text("of 500 samples accepted")).to_be_visible()

    page.get_by_role("button", name="Cancel job").click()
    expect(page.locator('[data-job="status"]')).to_have_text("cancelled", timeout=JOB_TIMEOUT_MS)
    job = httpx.get(f"{base_url}/seedbed/v1/jobs/{job_id}", timeout=10).json()
    assert job["status"] == "cancelled" and job["accepted"] < 500
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
