"""The API's documentation page works offline: Swagger UI comes from the server itself
(the watch fails the test on any request beyond 127.0.0.1)."""

from playwright.sync_api import Page, expect


def test_swagger_ui_renders_from_the_server_alone(page: Page, web_server: str) -> None:
    page.goto(f"{web_server}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("seedbed")
    expect(page.locator(".swagger-ui .opblock-tag-section").first).to_be_visible()


def test_redoc_leads_to_the_same_page(page: Page, web_server: str) -> None:
    page.goto(f"{web_server}/redoc")
    expect(page).to_have_url(f"{web_server}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("seedbed")


def test_the_ui_links_to_the_docs(page: Page, web_server: str) -> None:
    page.goto(f"{web_server}/datasets")
    page.get_by_role("link", name="API docs").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("seedbed")
