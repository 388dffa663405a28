"""The Collinear-compatible surface: ``POST /api/v1/synth_data/generate`` on seedbed's
generation engine, answering in Collinear's (FastAPI's) error shapes."""

from fastapi import FastAPI

from seedbed.api.collinear import routes


def install_collinear_routes(app: FastAPI) -> None:
    app.include_router(routes.router)
