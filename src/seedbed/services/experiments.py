"""Experiments: create (pinned to a dataset version), find, read with their aggregates,
update, finish, delete — always within the caller's workspace."""

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.domain.experiments import (
    SUITE_METHOD,
    Aggregates,
    Experiment,
    check_types,
)
from seedbed.domain.projects import DEFAULT_PROJECT
from seedbed.domain.prompts import PromptVersionLink
from seedbed.domain.queries import ExperimentQuery
from seedbed.domain.versions import DatasetVersion
from seedbed.services import projects, prompts
from seedbed.services.context import Caller, utcnow
from seedbed.services.datasets import require_dataset_by_name
from seedbed.storage.database import duplicate_is_conflict
from seedbed.storage.repositories.experiment_aggregates import AggregateRepository
from seedbed.storage.repositories.experiment_rollups import ExperimentRollupRepository
from seedbed.storage.repositories.experiments import ExperimentCriteria, ExperimentRepository
from seedbed.storage.repositories.projects import ProjectRepository
from seedbed.storage.repositories.versions import VersionRepository

MAX_STREAM_LIMIT = 2000


@dataclass
class ExperimentView:
    """An experiment with what its traces add up to, the dataset version it ran on and
    the prompt versions it ran."""

    experiment: Experiment
    aggregates: Aggregates
    version: DatasetVersion | None
    prompt_versions: list[PromptVersionLink] = dataclass_field(default_factory=list)


@dataclass
class ExperimentPage:
    content: list[ExperimentView]
    page: int
    size: int
    total: int


def _check_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidInput("experiment name must not be blank")
    return name.strip()


def create_experiment(
    connection: Connection,
    caller: Caller,
    dataset_name: str,
    experiment_id: str | None = None,
    name: str | None = None,
    metadata: Any = None,
    tags: list[str] | None = None,
    type: str | None = None,
    evaluation_method: str | None = None,
    optimization_id: str | None = None,
    status: str | None = None,
    experiment_scores: dict[str, float] | None = None,
    prompt_version_ids: list[str] | None = None,
    dataset_version_id: str | None = None,
    project_id: str | None = None,
    project_name: str | None = None,
) -> Experiment:
    """The experiment runs on ``dataset_version_id``, else on the dataset's latest version
    as it is now: later edits to the dataset do not change what it ran on. It links the
    prompt versions ``prompt_version_ids`` names, which must exist."""
    dataset = require_dataset_by_name(connection, caller, dataset_name)
    sequence = dataset.latest_version_sequence
    if dataset_version_id:
        version_id = ids.canonical_id(dataset_version_id, "dataset_version_id")
        version = VersionRepository(connection).by_id(dataset.id, version_id)
        if version is None:
            raise NotFound(f"Dataset version not found: '{version_id}'")
        sequence = version.sequence
    if project_id:
        project_id = projects.get_project(connection, caller, project_id).id
    elif project_name:
        project_id = projects.get_or_create_project(connection, caller, project_name).id
    links = prompts.links_to(connection, caller, prompt_version_ids or [])
    repository = ExperimentRepository(connection)
    experiment_id = (
        ids.canonical_id(experiment_id, "experiment id") if experiment_id else ids.new_id()
    )
    if repository.id_taken(experiment_id):
        raise Conflict(f"Experiment already exists with id '{experiment_id}'")
    now = utcnow()
    experiment = Experiment(
        id=experiment_id,
        workspace=caller.workspace,
        dataset_id=dataset.id,
        dataset_name=dataset.name,
        dataset_version_sequence=sequence,
        project_id=project_id,
        name=_check_name(name) if name is not None else f"experiment-{experiment_id[-12:]}",
        metadata=metadata,
        tags=list(dict.fromkeys(tags or [])),
        type=type or "regular",
        evaluation_method=evaluation_method
        or (SUITE_METHOD if dataset.type == SUITE_METHOD else "dataset"),
        optimization_id=ids.canonical_id(optimization_id, "optimization_id")
        if optimization_id
        else None,
        status=status or "running",
        experiment_scores=experiment_scores or {},
        created_at=now,
        created_by=caller.user,
        last_updated_at=now,
        last_updated_by=caller.user,
    )
    with duplicate_is_conflict(connection, f"Experiment already exists with id '{experiment_id}'"):
        repository.insert(experiment)
    prompts.link_experiment(connection, experiment.id, links)
    return experiment


def views(connection: Connection, caller: Caller, found: list[Experiment]) -> list[ExperimentView]:
    """Experiments with their aggregates."""
    aggregates = ExperimentRollupRepository(connection).for_experiments([e.id for e in found])
    AggregateRepository(connection).add_suite_results(
        caller.workspace, aggregates, [e.id for e in found if e.is_suite]
    )
    versions: dict[tuple[str, int], DatasetVersion | None] = {}
    repository = VersionRepository(connection)
    for experiment in found:
        pinned = (experiment.dataset_id, experiment.dataset_version_sequence)
        if pinned not in versions:
            versions[pinned] = repository.by_sequence(*pinned)
    links = prompts.experiment_links(connection, [e.id for e in found])
    return [
        ExperimentView(
            e,
            aggregates[e.id],
            versions[(e.dataset_id, e.dataset_version_sequence)],
            links.get(e.id, []),
        )
        for e in found
    ]


def require_experiment(connection: Connection, caller: Caller, experiment_id: str) -> Experiment:
    found = ExperimentRepository(connection).get(
        caller.workspace, ids.canonical_id(experiment_id, "experiment id")
    )
    if found is None:
        raise NotFound("Experiment not found")
    return found


def require_experiments(connection: Connection, caller: Caller, experiment_ids: list[str]) -> None:
    """Every id names an experiment of the caller's workspace, or NotFound."""
    existing = ExperimentRepository(connection).existing_ids(caller.workspace, experiment_ids)
    missing = [experiment_id for experiment_id in experiment_ids if experiment_id not in existing]
    if missing:
        raise NotFound(f"Experiment not found: {', '.join(missing)}")


def get_experiment(connection: Connection, caller: Caller, experiment_id: str) -> ExperimentView:
    return views(connection, caller, [require_experiment(connection, caller, experiment_id)])[0]


def _project_scope(
    connection: Connection,
    caller: Caller,
    project_id: str | None = None,
    project_name: str | None = None,
) -> tuple[str | None, bool] | None:
    """(project id, whether experiments without a project count) to narrow by; ``None``
    for no narrowing. Experiments made without a project count as the default project's."""
    if project_id:
        project = projects.get_project(connection, caller, project_id)
        return project.id, project.name == DEFAULT_PROJECT
    if project_name and project_name.strip():
        project = ProjectRepository(connection).get_by_name(caller.workspace, project_name.strip())
        if project is None and project_name.strip() != DEFAULT_PROJECT:
            raise NotFound("Project not found")
        return (project.id if project else None), project_name.strip() == DEFAULT_PROJECT
    return None


def _criteria(connection: Connection, caller: Caller, query: ExperimentQuery) -> ExperimentCriteria:
    criteria = ExperimentCriteria(
        dataset_id=ids.canonical_id(query.dataset_id, "datasetId") if query.dataset_id else None,
        optimization_id=ids.canonical_id(query.optimization_id, "optimization_id")
        if query.optimization_id
        else None,
        types=list(check_types(query.types)) if query.types is not None else None,
        name=query.name or None,
        dataset_deleted=query.dataset_deleted,
        prompt_id=ids.canonical_id(query.prompt_id, "prompt_id") if query.prompt_id else None,
        project_deleted=query.project_deleted,
        experiment_ids=ids.canonical_ids(query.experiment_ids, "experiment_ids"),
    )
    scope = _project_scope(connection, caller, project_id=query.project_id)
    if scope is not None:
        criteria.project_id, criteria.include_unassigned = scope
    return criteria


def _matching(
    connection: Connection, caller: Caller, query: ExperimentQuery, page: int, size: int | None
) -> tuple[list[ExperimentView], int]:
    found, total = ExperimentRepository(connection).find(
        caller.workspace,
        _criteria(connection, caller, query),
        list(query.filters),
        query.sort,
        page,
        size,
    )
    return views(connection, caller, found), total


def find_experiments(
    connection: Connection,
    caller: Caller,
    page: int = 1,
    size: int = 10,
    query: ExperimentQuery | None = None,
) -> ExperimentPage:
    """Experiments of the workspace matching ``query`` (all of them without one)."""
    content, total = _matching(connection, caller, query or ExperimentQuery(), page, size)
    return ExperimentPage(content, page, size, total)


def all_experiments(
    connection: Connection, caller: Caller, query: ExperimentQuery
) -> list[ExperimentView]:
    """Every experiment of the workspace matching ``query``, with its aggregates."""
    return _matching(connection, caller, query, 1, None)[0]


def stream_experiments(
    connection: Connection,
    caller: Caller,
    name: str,
    limit: int | None = None,
    last_retrieved_id: str | None = None,
    project_name: str | None = None,
) -> list[ExperimentView]:
    """Newest first, continuing below ``last_retrieved_id``; ``name`` matches in part,
    ignoring case (the client then picks the exact name)."""
    limit = limit or MAX_STREAM_LIMIT
    if not 1 <= limit <= MAX_STREAM_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_STREAM_LIMIT}")
    cursor = ids.canonical_id(last_retrieved_id, "last_retrieved_id") if last_retrieved_id else None
    criteria = ExperimentCriteria(name=name)
    try:
        scope = _project_scope(connection, caller, project_name=project_name)
    except NotFound:
        return []  # a project that does not exist holds no experiments
    if scope is not None:
        criteria.project_id, criteria.include_unassigned = scope
    found = ExperimentRepository(connection).stream(caller.workspace, criteria, cursor, limit)
    return views(connection, caller, found)


def update_experiment(
    connection: Connection, caller: Caller, experiment_id: str, changes: dict[str, Any]
) -> None:
    """Replace the fields given; ``tags_to_add`` / ``tags_to_remove`` edit the tags."""
    experiment = require_experiment(connection, caller, experiment_id)
    values: dict[str, Any] = {"last_updated_at": utcnow(), "last_updated_by": caller.user}
    if "name" in changes:
        values["name"] = _check_name(changes["name"])
    for field in ("metadata", "type", "status", "experiment_scores"):
        if field in changes:
            if changes[field] is None and field in ("type", "status"):
                raise InvalidInput(f"{field} must not be null")
            values[field] = changes[field]
    tags = list(changes["tags"]) if changes.get("tags") is not None else list(experiment.tags)
    tags += changes.get("tags_to_add") or []
    removed = set(changes.get("tags_to_remove") or [])
    values["tags"] = [tag for tag in dict.fromkeys(tags) if tag not in removed]
    ExperimentRepository(connection).update(experiment.id, **values)


def finish_experiments(connection: Connection, caller: Caller, experiment_ids: list[str]) -> None:
    """Mark experiments completed. Aggregates need no finishing: they are computed when
    read. Ids of other workspaces, or of no experiment, are passed over."""
    canonical = [
        ids.canonical_id(experiment_id, "experiment id") for experiment_id in experiment_ids
    ]
    ExperimentRepository(connection).finish(
        caller.workspace, canonical, last_updated_at=utcnow(), last_updated_by=caller.user
    )


def delete_experiments(connection: Connection, caller: Caller, experiment_ids: list[str]) -> None:
    """Deleting what is not there is not an error: the result is the same."""
    canonical = [
        ids.canonical_id(experiment_id, "experiment id") for experiment_id in experiment_ids
    ]
    ExperimentRepository(connection).delete(caller.workspace, canonical)


def feedback_score_names(
    connection: Connection,
    caller: Caller,
    experiment_ids: list[str] | None = None,
    project_id: str | None = None,
) -> list[str]:
    """Score names on the traces of the given experiments (or all of the workspace's, or
    of one project's)."""
    wanted = ids.canonical_ids(experiment_ids, "experiment_ids")
    scope = _project_scope(connection, caller, project_id=project_id)
    if scope is not None:
        criteria = ExperimentCriteria(experiment_ids=wanted)
        criteria.project_id, criteria.include_unassigned = scope
        wanted = ExperimentRepository(connection).ids_matching(caller.workspace, criteria)
    return ExperimentRollupRepository(connection).score_names(caller.workspace, wanted)
