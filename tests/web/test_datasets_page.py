"""The datasets list in a real browser: create, import a file, search, delete — and the
messages for bad input, with nothing half-written."""

import re

import httpx
from playwright.sync_api import Page, expect

SEEDS = b'{"question": "How do I reset my password?", "answer": "Use the link"}\n' + (
    b'{"question": "Can I get a refund?", "answer": "Within 30 days"}\n'
)


def _upload(page: Page, name: str, content: bytes, dataset_name: str = "") -> None:
    page.get_by_label("File (.jsonl, .json or .csv)").set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}]
    )
    page.get_by_label("Dataset name (default: the file's name)").fill(dataset_name)
    page.get_by_role("button", name="Import").click()


def _dataset_names(base_url: str) -> list[str]:
    listing = httpx.get(f"{base_url}/v1/private/datasets", timeout=30).json()
    return [dataset["name"] for dataset in listing["content"]]


def test_a_blank_name_is_refused_on_the_page(page: Page, web_server: str) -> None:
    page.goto(web_server)
    expect(page).to_have_url(f"{web_server}/datasets")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("dataset name must not be blank")
    assert _dataset_names(web_server) == []


def test_create_then_search_then_delete_with_confirmation(page: Page, web_server: str) -> None:
    page.goto(f"{web_server}/datasets")
    for name in ("support questions", "billing"):
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        page.get_by_role("link", name="Datasets").click()

    page.get_by_label("Search by name").fill("support")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("support questions")

    page.goto(f"{web_server}/datasets")
    page.get_by_role("link", name="Delete billing").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delete dataset “billing”?")
    page.get_by_role("button", name="Delete dataset").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted dataset 'billing'")
    assert _dataset_names(web_server) == ["support questions"]


def test_importing_a_file_makes_a_dataset_with_one_version(page: Page, web_server: str) -> None:
    page.goto(f"{web_server}/datasets")
    _upload(page, "seeds.jsonl", SEEDS, "support")
    expect(page.get_by_role("heading", level=1)).to_have_text("support")
    table = page.locator("#items")
    expect(table.locator("thead")).to_contain_text("question")
    expect(table.locator("thead")).to_contain_text("answer")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Can I get a refund?")
    versions = page.get_by_role("table", name="Versions")
    expect(versions.locator("tbody tr")).to_have_count(1)
    expect(versions).to_contain_text("v1")

    page.get_by_role("link", name="Datasets").click()
    row = page.locator("tbody tr", has_text="support")
    expect(row).to_contain_text("2")  # items
    expect(row).to_contain_text("v1")  # latest version


def test_a_csv_file_imports_too(page: Page, web_server: str) -> None:
    page.goto(f"{web_server}/datasets")
    _upload(page, "faq.csv", b"question,answer\nWhat is seedbed?,A tool\nIs it free?,Yes\n")
    expect(page.get_by_role("heading", level=1)).to_have_text("faq")
    expect(page.locator("#items tbody tr")).to_have_count(2)


def test_a_malformed_file_is_refused_and_nothing_is_written(page: Page, web_server: str) -> None:
    page.goto(f"{web_server}/datasets")
    # Its first row is fine; the third is not: no dataset may be left with the first two.
    _upload(page, "broken.jsonl", SEEDS + b'{"question": "unfinished\n', "broken")
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"line 3: not valid JSON"))
    _upload(page, "notes.txt", b"hello", "notes")
    expect(page.get_by_role("alert")).to_contain_text("cannot tell the format of 'notes.txt'")
    page.get_by_role("button", name="Import").click()  # no file chosen
    expect(page.get_by_role("alert")).to_contain_text("Choose a .jsonl, .json or .csv file")
    assert _dataset_names(web_server) == []
