"""The Opik-compatible surface, served under ``/v1/private`` and ``/api/v1/private``
(the Opik client is pointed at ``http://host:port/api``)."""

from fastapi import APIRouter, Depends, FastAPI

from seedbed.api.opik import (
    absent_resources,
    datasets,
    expansions,
    experiment_batch,
    experiment_groups,
    experiments,
    exports,
    health,
    items,
    items_from_traces,
    path_ids,
    projects,
    prompts,
    session_redirect,
    trace_search,
    traces,
    versions,
    workspace_check,
)


def install_opik_routes(app: FastAPI) -> None:
    private = APIRouter(dependencies=[Depends(path_ids.malformed_ids_are_not_found)])
    # Item routes first: ``PUT /datasets/items`` must not be read as ``PUT /datasets/{id}``.
    private.include_router(items.router)
    private.include_router(items_from_traces.router)
    # Before the dataset routes, so that "export-jobs" is not read as a dataset id.
    private.include_router(exports.router)
    private.include_router(versions.router)
    private.include_router(expansions.router)
    private.include_router(datasets.router)
    private.include_router(projects.router)
    private.include_router(trace_search.router)
    private.include_router(traces.router)
    private.include_router(experiment_batch.router)  # before /experiments/{id}
    private.include_router(experiment_groups.router)  # before /experiments/{id}
    private.include_router(experiments.router)
    private.include_router(absent_resources.router)
    private.include_router(workspace_check.router)
    private.include_router(prompts.router)
    for root in ("", "/api"):
        app.include_router(private, prefix=f"{root}/v1/private")
        app.include_router(health.router, prefix=root)
        app.include_router(session_redirect.router, prefix=root)
