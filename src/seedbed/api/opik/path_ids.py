"""Opik answers an id in a path that is not a UUID as it answers an unknown one: "not
found" (404), never a 400, so its clients raise their not-found errors
(``ExperimentNotFound``, ...) whatever the form of the id they were given.

Each path parameter that ends in ``_id`` names what it stands for (``dataset_item_id``,
``export_job_id``), which is what the answer says was not found.
"""

from fastapi import Request

from seedbed.api.dependencies import CallerDep
from seedbed.domain import ids
from seedbed.domain.errors import NotFound


def _not_found(parameter: str) -> str:
    return f"{parameter.removesuffix('_id').replace('_', ' ').capitalize()} not found"


async def malformed_ids_are_not_found(request: Request, caller: CallerDep) -> None:
    """A route dependency; it takes the caller so that a request without a valid key is
    refused (401) before its path is looked at."""
    for name, value in request.path_params.items():
        if name.endswith("_id") and not ids.is_id(value):
            raise NotFound(_not_found(name))
