"""The Collinear-compatible surface: ``POST /api/v1/synth_data/generate`` on seedbed's
generation engine, answering in Collinear's (FastAPI's) error shapes: routes, schemas,
auth and the adapter (``synth_data.py``: which model serves a ``model_id``, and
``multiplier`` samples per example)."""

from fastapi import FastAPI

from seedbed.api.collinear import routes


def install_collinear_routes(app: FastAPI) -> None:
    app.include_router(routes.router)
