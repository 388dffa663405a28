"""Opik routes for dataset export jobs."""

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from seedbed.api.dependencies import CallerDep, DatabaseDep, Reading, Writing
from seedbed.api.opik.presenters import export_job
from seedbed.services import exports

router = APIRouter(tags=["Datasets"])


@router.post("/datasets/{dataset_id}/export", status_code=202)
def start_export(dataset_id: str, connection: Writing, caller: CallerDep) -> dict:
    return export_job(exports.start_export(connection, caller, dataset_id))


@router.get("/datasets/export-jobs")
def list_exports(connection: Reading, caller: CallerDep) -> list[dict]:
    return [export_job(job) for job in exports.list_exports(connection, caller)]


@router.get("/datasets/export-jobs/{export_job_id}")
def get_export(export_job_id: str, connection: Reading, caller: CallerDep) -> dict:
    return export_job(exports.get_export(connection, caller, export_job_id))


@router.get("/datasets/export-jobs/{export_job_id}/download")
def download_export(
    export_job_id: str, connection: Reading, caller: CallerDep, database: DatabaseDep
) -> StreamingResponse:
    # A missing job is a 404, before any byte.
    job = exports.get_export(connection, caller, export_job_id)
    return StreamingResponse(
        exports.stream_csv(database, caller, job),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.file_name}"'},
    )


@router.put("/datasets/export-jobs/{export_job_id}/mark-viewed", status_code=204)
def mark_viewed(export_job_id: str, connection: Writing, caller: CallerDep) -> None:
    exports.mark_viewed(connection, caller, export_job_id)
