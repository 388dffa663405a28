"""The Galileo-compatible surface, at the server's root as Galileo's API is
(``GALILEO_API_URL`` and ``GALILEO_CONSOLE_URL`` both point at seedbed): login, datasets
and their content, and synthetic extension (also under ``/v2``). Errors answer in
Galileo's (FastAPI's) shapes, see ``api/fastapi_shape.py``."""

from fastapi import FastAPI

from seedbed.api.galileo import auth, datasets, extend


def install_galileo_routes(app: FastAPI) -> None:
    app.include_router(auth.router)
    # Before the dataset routes, so that "extend" is not read as a dataset id.
    for root in ("", "/v2"):
        app.include_router(extend.router, prefix=root)
    app.include_router(datasets.router)
