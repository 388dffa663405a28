"""Opik routes for experiments grouped by fields (``findExperimentGroups``,
``findExperimentGroupsAggregations``): ``groups`` is a JSON array of
``{"field", "key", "type"}``, one entry per level, e.g.
``[{"field": "dataset_id", "type": "string"}, {"field": "metadata", "key": "model",
"type": "dictionary"}]``; the other parameters narrow the experiments as on
``GET /experiments``."""

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends

from seedbed.api.dependencies import CallerDep, Reading
from seedbed.api.opik import experiment_presenters as presenters
from seedbed.api.opik.queries import json_list, parse_filters, string_list
from seedbed.domain.errors import InvalidInput
from seedbed.domain.experiment_groups import GroupBy, make_group_by
from seedbed.domain.experiments import EXPERIMENT_FIELDS
from seedbed.domain.queries import ExperimentQuery
from seedbed.services import experiment_groups
from seedbed.services.experiment_groups import ExperimentGroups

router = APIRouter(tags=["Experiments"])


def _levels(groups: str | None) -> list[GroupBy]:
    if groups is None or not groups.strip():
        raise InvalidInput("Required query parameter 'groups' is missing")
    entries = json_list(groups, "groups")
    if not entries:
        raise InvalidInput("At least one grouping field must be specified")
    if not all(isinstance(entry, Mapping) for entry in entries):
        raise InvalidInput("each grouping must be an object with a field")
    return [
        make_group_by(entry.get("field"), entry.get("key"), entry.get("type")) for entry in entries
    ]


def _grouped(
    connection: Reading,
    caller: CallerDep,
    groups: str | None = None,
    types: str | None = None,
    name: str | None = None,
    project_id: str | None = None,
    project_deleted: bool | None = None,
    filters: str | None = None,
) -> ExperimentGroups:
    query = ExperimentQuery(
        types=string_list(types, "types"),
        name=name,
        project_id=project_id,
        project_deleted=project_deleted,
        filters=parse_filters(filters, EXPERIMENT_FIELDS),
    )
    return experiment_groups.find_groups(connection, caller, _levels(groups), query)


Grouped = Annotated[ExperimentGroups, Depends(_grouped)]


@router.get("/experiments/groups")
def find_experiment_groups(found: Grouped) -> dict:
    return presenters.experiment_groups(found)


@router.get("/experiments/groups/aggregations")
def find_experiment_group_aggregations(found: Grouped) -> dict:
    return presenters.group_aggregations(found)
