"""seedbed's own API, under ``/seedbed/v1``: generation jobs."""

from fastapi import FastAPI

from seedbed.api.native import jobs


def install_native_routes(app: FastAPI) -> None:
    app.include_router(jobs.router, prefix="/seedbed/v1")
