"""Opik's liveness routes. ``/is-alive/ver`` reports the Opik API level seedbed speaks:
the client enables parallel uploads from 2.2.8 on, which seedbed supports."""

from fastapi import APIRouter

import seedbed

OPIK_API_LEVEL = "2.2.122"

router = APIRouter(tags=["System"])


@router.get("/is-alive/ping")
def ping() -> dict:
    return {"healthy": True}


@router.get("/is-alive/ver")
def version() -> dict:
    return {"version": OPIK_API_LEVEL, "seedbed_version": seedbed.__version__}
