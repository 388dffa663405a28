"""The links the Opik client prints (``OPIK: Started logging traces to ... at
/api/v1/session/redirect/projects/?trace_id=...``, and the same for datasets and
experiments) lead to seedbed's web page for the object: a dataset's page
(``/datasets/{id}``) and the compare page (``/experiments/compare?ids=...``). The UI has
no page for a trace: a 404 says so and where to read it instead."""

import urllib.parse

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, RedirectResponse

router = APIRouter(tags=["System"], include_in_schema=False)

REDIRECT = "/v1/session/redirect"


@router.get(f"{REDIRECT}/datasets/")
def dataset_page(dataset_id: str = "") -> Response:
    page = f"/datasets/{urllib.parse.quote(dataset_id, safe='')}"
    return _to_page(page if dataset_id else None, "dataset", dataset_id)


@router.get(f"{REDIRECT}/experiments/")
def experiment_page(experiment_id: str = "", dataset_id: str = "") -> Response:
    page = "/experiments/compare?" + urllib.parse.urlencode({"ids": experiment_id})
    return _to_page(page if experiment_id else None, "experiment", experiment_id)


@router.get(f"{REDIRECT}/projects/")
def trace_page(trace_id: str = "") -> Response:
    # seedbed's UI shows datasets, jobs and experiments; traces are read through the API.
    return _to_page(None, "trace", trace_id)


def _to_page(page: str | None, kind: str, object_id: str) -> Response:
    if page is not None:
        return RedirectResponse(page, status_code=303)
    return JSONResponse(
        {
            "errors": [
                f"seedbed's web UI has no page for {kind} {object_id!r}; read it with "
                f"GET /api/v1/private/{kind}s/{object_id}"
            ]
        },
        status_code=404,
    )
