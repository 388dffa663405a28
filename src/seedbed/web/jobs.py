"""The jobs pages: the list (status, progress, cost, dataset), and one job: its live
progress while it runs, the review of its samples when it has ended."""

import json
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from seedbed.domain.errors import InvalidInput, NotFound, SeedbedError
from seedbed.services import jobs, review
from seedbed.services.context import utcnow
from seedbed.services.datasets import require_dataset
from seedbed.web import figures
from seedbed.web.pages import PageRoute, Visitor, VisitorDep
from seedbed.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
JOBS_PAGE_SIZE = 25
SAMPLES_PAGE_SIZE = 50


@router.get("/jobs")
def jobs_page(
    request: Request, visitor: VisitorDep, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    with visitor.reading() as connection:
        found, total = jobs.list_jobs(connection, visitor.caller, page, JOBS_PAGE_SIZE)
        names = _dataset_names(connection, visitor, found)
    return render(
        request,
        "jobs.html",
        visitor,
        jobs=found,
        names=names,
        found={"total": total},
        page=page,
        pages=max(1, -(-total // JOBS_PAGE_SIZE)),
        figures=figures,
    )


def _dataset_names(connection, visitor: Visitor, found: list) -> dict[str, str]:
    """The name of each job's dataset (a deleted one has none)."""
    names: dict[str, str] = {}
    for job in found:
        dataset_id = job.source.get("dataset_id") or job.target_dataset_id
        if dataset_id and dataset_id not in names:
            try:
                names[dataset_id] = require_dataset(connection, visitor.caller, dataset_id).name
            except NotFound:
                names[dataset_id] = ""
    return names


def _job_page(
    request: Request,
    visitor: Visitor,
    job_id: str,
    page: int = 1,
    status_code: int = 200,
    **context,
) -> Response:
    with visitor.reading() as connection:
        job = jobs.get_job(connection, visitor.caller, job_id)
        reviewed = (
            review.review_page(connection, visitor.caller, job.id, page, SAMPLES_PAGE_SIZE)
            if job.finished
            else None
        )
        names = _dataset_names(connection, visitor, [job])
        report = (
            jobs.job_quality_report(connection, visitor.caller, job.id) if job.finished else None
        )
    total = reviewed.total if reviewed else 0
    return render(
        request,
        "job.html",
        visitor,
        status_code,
        job=job,
        totals=job.totals(),
        eta=job.eta_seconds(utcnow()),
        review=reviewed,
        report=report,
        dataset_id=job.source.get("dataset_id"),
        names=names,
        found={"total": total},
        page=page,
        pages=max(1, -(-total // SAMPLES_PAGE_SIZE)),
        figures=figures,
        pretty=lambda value: json.dumps(value, indent=2, ensure_ascii=False),
        **context,
    )


@router.get("/jobs/{job_id}")
def job_page(
    request: Request,
    job_id: str,
    visitor: VisitorDep,
    page: Annotated[int, Query(ge=1)] = 1,
    notice: str = "",
) -> Response:
    return _job_page(request, visitor, job_id, page, notice=notice)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, visitor: VisitorDep) -> Response:
    with visitor.writing() as connection:
        job = jobs.cancel_job(connection, visitor.caller, job_id)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/jobs/{job_id}/review")
def submit_review(
    request: Request,
    job_id: str,
    visitor: VisitorDep,
    sequence: Annotated[list[int], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    keep: Annotated[list[int], Form()] = [],  # noqa: B006
    data: Annotated[list[str], Form()] = [],  # noqa: B006
    reason: Annotated[list[str], Form()] = [],  # noqa: B006
    action: Annotated[str, Form()] = "save",
    page: Annotated[int, Form()] = 1,
) -> Response:
    """The decisions about the samples shown (checked: kept; unchecked: rejected, with
    the reason typed; the text of each sample, edited or not); "Add" then adds every
    kept sample of the job as one new version."""
    try:
        decisions = _decisions(sequence, set(keep), data, reason, (page - 1) * SAMPLES_PAGE_SIZE)
        with visitor.writing() as connection:
            review.record_decisions(connection, visitor.caller, job_id, decisions)
            version = (
                review.add_kept_samples(connection, visitor.caller, job_id)
                if action == "add"
                else None
            )
    except SeedbedError as error:
        return _job_page(request, visitor, job_id, page, error.status_code, message=error.message)
    if version is None:
        return RedirectResponse(f"/jobs/{job_id}?page={page}&notice=Review+saved", status_code=303)
    notice = f"Added {version.changes.added} samples as version {version.name}"
    return RedirectResponse(
        f"/datasets/{version.dataset_id}?notice={notice.replace(' ', '+')}", status_code=303
    )


def _decisions(
    sequences: list[int], kept: set[int], texts: list[str], reasons: list[str], shown_after: int
) -> list[review.SampleDecision]:
    if not len(sequences) == len(texts) == len(reasons):
        raise InvalidInput("the review form is incomplete: reload the page and review again")
    decisions = []
    for position, (sequence, text, reason) in enumerate(
        zip(sequences, texts, reasons, strict=True), start=shown_after + 1
    ):
        try:
            edited = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"Sample {position}: the edit is not valid JSON ({error.msg})"
            ) from None
        decisions.append(review.SampleDecision(sequence, sequence in kept, reason, edited))
    return decisions
