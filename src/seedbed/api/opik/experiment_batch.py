"""Opik's batch update of experiments. Served before ``/experiments/{id}``, so that
"batch" is not read as an experiment id."""

from fastapi import APIRouter

from seedbed.api.dependencies import CallerDep, Writing
from seedbed.api.opik.experiment_schemas import ExperimentBatchUpdate
from seedbed.services import experiment_batch

router = APIRouter(tags=["Experiments"])


@router.patch("/experiments/batch", status_code=204)
def update_experiments(body: ExperimentBatchUpdate, connection: Writing, caller: CallerDep) -> None:
    experiment_batch.update_experiments(
        connection,
        caller,
        [str(experiment_id) for experiment_id in body.ids],
        body.update.to_changes(),
        merge_tags=body.merge_tags,
    )
