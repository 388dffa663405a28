"""Galileo's synthetic extension: ``POST /datasets/extend`` starts a generation job that
writes a new dataset and answers its id; ``GET /datasets/extend/{dataset_id}`` reports
the job's progress, which the client polls every second until ``steps_completed ==
steps_total`` (see ``api/galileo/extension.py``)."""

from uuid import UUID

from fastapi import APIRouter

from seedbed.api.dependencies import (
    DispatchAfterCommit,
    ProvidersDep,
    Reading,
    SettingsDep,
    Writing,
)
from seedbed.api.fastapi_shape import FastAPIShapedRoute
from seedbed.api.galileo import extension, presenters
from seedbed.api.galileo.auth import GalileoCaller
from seedbed.api.galileo.schemas import ExtendRequest
from seedbed.services.context import utcnow

router = APIRouter(tags=["Galileo"], route_class=FastAPIShapedRoute)


@router.post("/datasets/extend")
def extend_dataset(
    body: ExtendRequest,
    connection: Writing,
    caller: GalileoCaller,
    providers: ProvidersDep,
    settings: SettingsDep,
    jobs_after_commit: DispatchAfterCommit,
) -> dict:
    job = extension.start_extension(
        connection, caller, providers, settings, body.to_service(), utcnow()
    )
    jobs_after_commit.dispatch(job.id)
    return {"dataset_id": job.target_dataset_id}


@router.get("/datasets/extend/{dataset_id}")
def extension_progress(dataset_id: UUID, connection: Reading, caller: GalileoCaller) -> dict:
    job = extension.extension_job(connection, caller, str(dataset_id))
    return presenters.progress(extension.extension_progress(job))
