"""The web UI: server-rendered pages over the same services as the API, served by
``seedbed serve`` at ``/``. Every asset ships in this package; no page loads anything
from another host."""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from seedbed.web import account, dataset, datasets, expand, experiments, jobs, versions
from seedbed.web.docs import install_offline_docs
from seedbed.web.pages import PageRoute

STATIC_PATH = "/static"
_home = APIRouter(route_class=PageRoute, include_in_schema=False)


@_home.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/datasets", status_code=303)


def install_web_ui(app: FastAPI) -> None:
    """The UI's pages, its static files and the offline API docs. Installed before the
    Galileo routes: its pages share ``/datasets`` paths with Galileo's JSON API, and
    answer only browsers asking for HTML (see ``pages.PageRoute``)."""
    install_offline_docs(app)
    app.mount(
        STATIC_PATH,
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="static",
    )
    for router in (
        _home,
        account.router,
        datasets.router,
        versions.router,
        dataset.router,
        expand.router,
        jobs.router,
        experiments.router,
    ):
        app.include_router(router)
