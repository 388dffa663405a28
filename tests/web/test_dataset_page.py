"""A dataset's page in a real browser: the draft (add, edit, delete) saved as ONE new
version, an old version read-only, the diff of two versions, restore and tag."""

import json

import httpx
import pytest
from playwright.sync_api import Page, expect

SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the reset link"},
    {"question": "Can I get a refund?", "answer": "Within 30 days"},
    {"question": "Do you ship abroad?", "answer": "To 40 countries"},
]


@pytest.fixture
def dataset_id(web_server: str) -> str:
    """A dataset 'support' at v1 with the three seeds, made through the Opik API."""
    api = f"{web_server}/v1/private"
    httpx.post(f"{api}/datasets", json={"name": "support"}, timeout=30).raise_for_status()
    httpx.put(
        f"{api}/datasets/items",
        json={"dataset_name": "support", "items": [{"data": seed} for seed in SEEDS]},
        timeout=30,
    ).raise_for_status()
    found = httpx.post(f"{api}/datasets/retrieve", json={"dataset_name": "support"}, timeout=30)
    return found.json()["id"]


def _items(base_url: str, dataset_id: str, version: str | None = None) -> list[dict]:
    params = {"size": 100, **({"version": version} if version else {})}
    answer = httpx.get(
        f"{base_url}/v1/private/datasets/{dataset_id}/items", params=params, timeout=30
    )
    return [item["data"] for item in answer.json()["content"]]


def _versions(base_url: str, dataset_id: str) -> list[dict]:
    answer = httpx.get(f"{base_url}/v1/private/datasets/{dataset_id}/versions", timeout=30)
    return answer.json()["content"]


def _row(page: Page, question: str):
    return page.locator("#items tbody tr", has_text=question)


def _item_id(page: Page, question: str) -> str:
    return _row(page, question).get_attribute("data-item-id")


def _make_v2(page: Page, web_server: str, dataset_id: str) -> None:
    """Through the draft: add one item, edit the refund answer, delete the shipping one."""
    page.goto(f"{web_server}/datasets/{dataset_id}")
    editor = page.get_by_label("New item (JSON object)")
    editor.fill('{"question": "Is there an app?", "answer": "Yes, for phones"}')
    page.get_by_role("button", name="Add to draft").click()

    refund = _item_id(page, "Can I get a refund?")
    page.get_by_role("button", name=f"Edit item {refund}").click()
    edited = page.get_by_label(f"Item {refund[-8:]} (JSON object)")
    assert json.loads(edited.input_value()) == SEEDS[1]
    edited.fill('{"question": "Can I get a refund?", "answer": "Within 60 days"}')
    page.get_by_role("button", name="Keep edit in draft").click()

    shipping = _item_id(page, "Do you ship abroad?")
    page.get_by_role("button", name=f"Delete item {shipping}").click()
    expect(page.locator("#draft-summary")).to_have_text(
        "1 added, 1 edited, 1 deleted (not saved yet)"
    )
    # Nothing is written until the draft is saved.
    assert len(_versions(web_server, dataset_id)) == 1

    page.get_by_label("Change description (optional)").fill("Refunds now take 60 days")
    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved as v2")


def test_draft_changes_are_saved_as_one_new_version(
    page: Page, web_server: str, dataset_id: str
) -> None:
    _make_v2(page, web_server, dataset_id)

    versions = _versions(web_server, dataset_id)
    assert [version["version_name"] for version in versions] == ["v2", "v1"]
    latest = versions[0]
    assert (latest["items_added"], latest["items_modified"], latest["items_deleted"]) == (1, 1, 1)
    assert latest["change_description"] == "Refunds now take 60 days"
    assert sorted(item["question"] for item in _items(web_server, dataset_id)) == [
        "Can I get a refund?",
        "How do I reset my password?",
        "Is there an app?",
    ]
    # The page shows the new version: its items and its row in the history.
    expect(page.locator("#items tbody tr")).to_have_count(3)
    expect(_row(page, "Can I get a refund?")).to_contain_text("Within 60 days")
    history = page.get_by_role("table", name="Versions")
    v2 = history.locator("tbody tr").first
    for text in ("v2", "(latest)", "Refunds now take 60 days", latest["version_hash"]):
        expect(v2).to_contain_text(text)
    expect(page.locator("#draft-summary")).to_have_text("No changes yet.")


def test_an_old_version_is_readable_and_read_only(
    page: Page, web_server: str, dataset_id: str
) -> None:
    _make_v2(page, web_server, dataset_id)
    page.get_by_role("link", name="v1", exact=True).click()
    expect(page).to_have_url(f"{web_server}/datasets/{dataset_id}?version=v1")
    expect(page.get_by_role("note")).to_contain_text("Version v1 (read-only)")
    rows = page.locator("#items tbody tr")
    expect(rows).to_have_count(3)
    expect(_row(page, "Can I get a refund?")).to_contain_text("Within 30 days")
    expect(_row(page, "Do you ship abroad?")).to_be_visible()
    expect(page.get_by_role("button", name="Edit item", exact=False)).to_have_count(0)
    expect(page.locator("#draft")).to_have_count(0)
    expect(page.get_by_role("link", name="Expand")).to_have_count(0)


def test_the_diff_of_two_versions_highlights_what_changed(
    page: Page, web_server: str, dataset_id: str
) -> None:
    _make_v2(page, web_server, dataset_id)
    page.get_by_label("From version").fill("v1")
    page.get_by_label("To version").fill("v2")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("v1 → v2")
    expect(page.locator("#diff-counts")).to_have_text("1 added · 1 removed · 1 changed")
    differences = page.get_by_role("table", name="Differences")
    changed = differences.locator("tr.changed")
    expect(changed).to_have_count(1)
    # Only the answer changed, on both sides; the question is shown but not marked.
    expect(changed.locator(".field-changed")).to_have_count(2)
    expect(changed.locator(".field-changed").first).to_contain_text("Within 30 days")
    expect(changed.locator(".field-changed").last).to_contain_text("Within 60 days")
    expect(differences.locator("tr.added")).to_contain_text("Is there an app?")
    expect(differences.locator("tr.removed")).to_contain_text("Do you ship abroad?")

    page.get_by_role("link", name="Removed").click()
    expect(differences.locator("tbody tr")).to_have_count(1)
    expect(differences.locator("tr.removed")).to_have_count(1)

    # Each version of the history links to what it changed.
    page.goto(f"{web_server}/datasets/{dataset_id}")
    page.get_by_role("link", name="Changes in v2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("v1 → v2")
    expect(page.locator("#diff-counts")).to_have_text("1 added · 1 removed · 1 changed")


def test_restore_makes_a_new_version_with_the_old_items(
    page: Page, web_server: str, dataset_id: str
) -> None:
    _make_v2(page, web_server, dataset_id)
    page.get_by_role("button", name="Restore v1").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Restored v1: the dataset is now at v3"
    )
    assert sorted(_items(web_server, dataset_id), key=lambda item: item["question"]) == sorted(
        SEEDS, key=lambda item: item["question"]
    )
    expect(page.locator("#items tbody tr")).to_have_count(3)


def test_tag_a_version(page: Page, web_server: str, dataset_id: str) -> None:
    page.goto(f"{web_server}/datasets/{dataset_id}")
    page.get_by_label("Tag", exact=True).fill("gold")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_role("table", name="Versions").locator(".tag")).to_have_text("gold")
    assert _versions(web_server, dataset_id)[0]["tags"] == ["gold"]

    page.get_by_role("button", name="Add tag").click()  # blank
    expect(page.get_by_role("alert")).to_contain_text("tag must not be blank")


def test_bad_input_gets_a_message_on_the_page(page: Page, web_server: str, dataset_id: str) -> None:
    page.goto(f"{web_server}/datasets/{dataset_id}")
    page.get_by_label("New item (JSON object)").fill('["not", "an object"]')
    page.get_by_role("button", name="Add to draft").click()
    expect(page.get_by_role("alert")).to_contain_text("The item must be a JSON object")
    expect(page.locator("#draft-summary")).to_have_text("No changes yet.")

    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_role("alert")).to_contain_text("The draft is empty")

    page.get_by_label("Filter field").select_option("created_at")
    page.get_by_label("Operator").select_option("contains")
    page.get_by_label("Value").fill("x")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_contain_text("operator 'contains'")
    assert len(_versions(web_server, dataset_id)) == 1


def test_search_and_filters_narrow_the_items(page: Page, web_server: str, dataset_id: str) -> None:
    page.goto(f"{web_server}/datasets/{dataset_id}")
    search = page.get_by_role("searchbox", name="Search")
    search.fill("refund")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#items tbody tr")).to_have_count(1)
    search.fill("")
    page.get_by_label("Filter field").select_option("data.answer")
    page.get_by_label("Operator").select_option("starts_with")
    page.get_by_label("Value").fill("To ")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#items tbody tr")).to_have_count(1)
    expect(page.locator("#items")).to_contain_text("Do you ship abroad?")
    page.locator("#items tbody tr").first.get_by_text("JSON", exact=True).click()
    expect(page.locator("#items pre.json").first).to_contain_text('"answer": "To 40 countries"')


def test_the_items_come_a_page_at_a_time(page: Page, web_server: str, dataset_id: str) -> None:
    many = [{"data": {"question": f"question {number:03d}"}} for number in range(60)]
    httpx.put(
        f"{web_server}/v1/private/datasets/items",
        json={"dataset_id": dataset_id, "items": many},
        timeout=30,
    ).raise_for_status()
    page.goto(f"{web_server}/datasets/{dataset_id}")
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("Page 1 of 3 · 63 in all")
    expect(page.locator("#items tbody tr")).to_have_count(25)
    first_page = set(
        page.locator("#items tbody tr").evaluate_all("rows => rows.map(row => row.dataset.itemId)")
    )
    pages.get_by_role("link", name="Next page").click()
    expect(pages).to_contain_text("Page 2 of 3")
    second_page = set(
        page.locator("#items tbody tr").evaluate_all("rows => rows.map(row => row.dataset.itemId)")
    )
    assert len(second_page) == 25 and not first_page & second_page
    pages.get_by_role("link", name="Next page").click()
    expect(page.locator("#items tbody tr")).to_have_count(13)


def _tab_to(page: Page, target) -> None:
    """Press Tab until ``target`` has the focus (a failure if it never gets it)."""
    for _ in range(80):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def test_the_keyboard_alone_edits_an_item_and_saves_the_version(
    page: Page, web_server: str, dataset_id: str
) -> None:
    page.goto(f"{web_server}/datasets/{dataset_id}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    row = _row(page, "Can I get a refund?")
    _tab_to(page, row.get_by_text("JSON", exact=True))
    page.keyboard.press("Enter")
    expect(row.locator("pre.json")).to_be_visible()

    refund = row.get_attribute("data-item-id")
    _tab_to(page, page.get_by_role("button", name=f"Edit item {refund}"))
    page.keyboard.press("Enter")
    editor = page.get_by_label(f"Item {refund[-8:]} (JSON object)")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type('{"question": "Can I get a refund?", "answer": "Within 90 days"}')
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Keep edit in draft")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#draft-summary")).to_have_text(
        "0 added, 1 edited, 0 deleted (not saved yet)"
    )
    _tab_to(page, page.get_by_role("button", name="Save as new version"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Saved as v2")
    assert {"question": "Can I get a refund?", "answer": "Within 90 days"} in _items(
        web_server, dataset_id
    )
