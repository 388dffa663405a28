"""The Jinja2 environment of the UI and the one way a page is rendered."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from seedbed import __version__
from seedbed.web import formatting

environment = Environment(
    loader=PackageLoader("seedbed.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["version"] = __version__
environment.filters.update(formatting.FILTERS)


def render(
    request: Request, template: str, visitor: Any = None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` with the page's context; ``visitor`` (see ``pages.Visitor``) fills in
    the workspace switcher of the layout."""
    html = environment.get_template(template).render(
        request=request, visitor=visitor, path=request.url.path, **context
    )
    return HTMLResponse(html, status_code=status_code)


def page_count(total: int, size: int) -> int:
    """How many pages ``total`` rows take (at least one, to show an empty page)."""
    return max(1, -(-total // size))


def render_error(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status_code, message=message)
