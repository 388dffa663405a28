"""Keys and workspaces on the UI: with keys required, the UI asks for one, remembers it
for the browser session, and shows only what the key's workspaces hold."""

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from seedbed.services import datasets, keys
from seedbed.services.context import Caller


@pytest.fixture
def two_workspaces(database) -> dict[str, str]:
    """A key for team-a, one for team-b, and one for both; a dataset in each workspace."""
    with database.writing() as connection:
        secrets = {
            "a": keys.create_key(connection, "alice", ["team-a"]).secret,
            "b": keys.create_key(connection, "bob", ["team-b"]).secret,
            "both": keys.create_key(connection, "carol", ["team-a", "team-b"]).secret,
        }
        for workspace, name in (("team-a", "alpha questions"), ("team-b", "beta secrets")):
            created = datasets.create_dataset(connection, Caller(workspace), name)
            secrets[f"{workspace} dataset"] = created.id
    return secrets


def _log_in(page: Page, base_url: str, secret: str) -> None:
    page.goto(f"{base_url}/datasets")
    expect(page).to_have_url(
        f"{base_url}/login?next=/datasets&message=Enter%20an%20API%20key%20to%20use%20seedbed"
    )
    page.get_by_label("API key").fill(secret)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Datasets")
    # The page's scripts (the workspace switcher sends its form on change) have run.
    page.wait_for_load_state("load")


def test_a_key_of_workspace_a_never_sees_workspace_b(
    page: Page,
    browser_context: BrowserContext,
    browser_watch,
    keyed_web_server: str,
    two_workspaces: dict[str, str],
) -> None:
    _log_in(page, keyed_web_server, two_workspaces["a"])
    table = page.locator("main table")
    expect(table).to_contain_text("alpha questions")
    expect(table).not_to_contain_text("beta secrets")
    switcher = page.get_by_label("Workspace")
    expect(switcher.locator("option")).to_have_text(["team-a"])

    # Reaching for B's dataset by its address finds nothing, page or diff alike.
    other = two_workspaces["team-b dataset"]
    for path in (f"/datasets/{other}", f"/datasets/{other}/diff", f"/datasets/{other}/delete"):
        browser_watch.expect_error_page(path)
    page.goto(f"{keyed_web_server}/datasets/{other}")
    expect(page.get_by_role("alert")).to_have_text("Dataset not found")
    expect(page.locator("main")).not_to_contain_text("beta secrets")
    page.goto(f"{keyed_web_server}/datasets/{other}/diff?from=v1&to=v2")
    expect(page.get_by_role("alert")).to_have_text("Dataset not found")

    # Nor can a forged switch: the key does not open team-b.
    answer = browser_context.request.post(
        f"{keyed_web_server}/workspace", form={"workspace": "team-b"}, max_redirects=0
    )
    assert answer.status == 303 and "/login" in answer.headers["location"]
    page.goto(f"{keyed_web_server}/datasets")
    expect(page.locator("main table")).not_to_contain_text("beta secrets")

    # And deleting B's dataset through the form does nothing to it.
    answer = browser_context.request.post(
        f"{keyed_web_server}/datasets/{other}/delete", max_redirects=0
    )
    assert answer.status == 404
    listing = httpx.get(
        f"{keyed_web_server}/v1/private/datasets",
        headers={"Authorization": two_workspaces["b"]},
        timeout=30,
    ).json()
    assert [dataset["name"] for dataset in listing["content"]] == ["beta secrets"]


def test_a_key_with_two_workspaces_switches_between_them(
    page: Page, keyed_web_server: str, two_workspaces: dict[str, str]
) -> None:
    _log_in(page, keyed_web_server, two_workspaces["both"])
    switcher = page.get_by_label("Workspace")
    expect(switcher.locator("option")).to_have_text(["team-a", "team-b"])
    expect(page.locator("main table")).to_contain_text("alpha questions")
    switcher.select_option("team-b")  # sends the form at once
    expect(page.get_by_label("Workspace")).to_have_value("team-b")
    expect(page.locator("main table")).to_contain_text("beta secrets")
    expect(page.locator("main table")).not_to_contain_text("alpha questions")

    # The key is remembered for the session, and forgotten on request.
    page.goto(f"{keyed_web_server}/datasets")
    expect(page.locator("main table")).to_contain_text("beta secrets")
    page.get_by_role("button", name="Forget key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your API key")
    page.goto(f"{keyed_web_server}/datasets")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your API key")


def test_a_wrong_key_is_refused_on_the_page(
    page: Page, keyed_web_server: str, two_workspaces: dict[str, str]
) -> None:
    page.goto(f"{keyed_web_server}/login")
    page.get_by_label("API key").fill("sb_not-a-key")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text("The API key is not valid")
    cookies = page.context.cookies()
    assert not [cookie for cookie in cookies if cookie["name"] == "seedbed_api_key"]


def test_the_key_cookie_is_out_of_reach_of_scripts(
    page: Page, keyed_web_server: str, two_workspaces: dict[str, str]
) -> None:
    _log_in(page, keyed_web_server, two_workspaces["a"])
    assert two_workspaces["a"] not in page.evaluate("document.cookie")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "seedbed_api_key"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1
