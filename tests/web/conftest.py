"""Browser fixtures: the UI driven in a real Chromium (Debian's ``chromium`` package, no
browser download) against a real ``seedbed serve`` process.

Every page a test opens is watched: a test fails when the browser console shows an error
(an uncaught script error included) or when any request leaves 127.0.0.1.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright

CHROMIUM = os.environ.get("SEEDBED_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A step that waits longer than this is a failure, not a hang.
STEP_TIMEOUT_MS = 20_000
expect.set_options(timeout=STEP_TIMEOUT_MS)
_LOCAL_SCHEMES = ("data", "blob", "about")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for tests/web: install Debian's chromium ({CHROMIUM})")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class BrowserWatch:
    """What the pages of one test did that a user must never see: console errors and
    requests to any host but the server."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self._expected_failures: list[str] = []

    def expect_error_page(self, path: str) -> None:
        """A page at ``path`` is meant to answer with an error status (e.g. a 404 for another
        workspace's dataset): the console line the browser logs for it is not a failure."""
        self._expected_failures.append(path)

    def watch(self, context: BrowserContext) -> None:
        context.route("**/*", self._only_local)
        context.on("page", self._watch_page)

    def _watch_page(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        failed = urlsplit(message.location.get("url", ""))
        if message.text.startswith("Failed to load resource") and any(
            failed.path == path for path in self._expected_failures
        ):
            return
        self.console_errors.append(f"{message.text} ({message.location})")

    def _only_local(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in _LOCAL_SCHEMES or url.hostname == "127.0.0.1":
            route.continue_()
            return
        self.foreign_requests.append(route.request.url)
        route.abort()

    def check(self) -> None:
        assert not self.foreign_requests, f"requests left 127.0.0.1: {self.foreign_requests}"
        assert not self.console_errors, f"the browser console showed errors: {self.console_errors}"


@pytest.fixture
def browser_watch() -> BrowserWatch:
    return BrowserWatch()


@pytest.fixture
def browser_context(browser: Browser, browser_watch: BrowserWatch) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies, no storage) whose pages are watched; the test
    fails if any of them logged an error or reached beyond 127.0.0.1."""
    watch = browser_watch
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    watch.watch(context)
    yield context
    context.close()
    watch.check()


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    return browser_context.new_page()


@pytest.fixture
def web_server(server) -> str:
    """A real ``seedbed serve`` in local mode (no keys) on the engine under test."""
    return server


@pytest.fixture
def keyed_web_server(keyed_server) -> str:
    """A real ``seedbed serve`` that requires API keys, on the engine under test."""
    return keyed_server
