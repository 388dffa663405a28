"""Datasets: create, find, read, rename, delete — always within the caller's workspace."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.datasets import DATASET_TYPES, VISIBILITIES, Dataset
from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.domain.projects import DEFAULT_PROJECT
from seedbed.domain.queries import DatasetQuery
from seedbed.domain.versions import DatasetVersion
from seedbed.services import projects
from seedbed.services.context import Caller, utcnow
from seedbed.storage.database import duplicate_is_conflict
from seedbed.storage.repositories.datasets import DatasetRepository
from seedbed.storage.repositories.experiments import DatasetExperiments, ExperimentRepository
from seedbed.storage.repositories.versions import VersionRepository


@dataclass
class DatasetView:
    """A dataset with its newest version and its experiments, as listings show it."""

    dataset: Dataset
    latest_version: DatasetVersion | None
    experiments: DatasetExperiments | None = None


@dataclass
class DatasetPage:
    content: list[DatasetView]
    page: int
    size: int
    total: int


def _check_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidInput("dataset name must not be blank")
    if "\x00" in name:
        raise InvalidInput("dataset name must not contain NUL (\\u0000) characters")
    return name.strip()


def create_dataset(
    connection: Connection,
    caller: Caller,
    name: str,
    dataset_id: str | None = None,
    description: str | None = None,
    type: str | None = None,
    visibility: str | None = None,
    tags: list[str] | None = None,
    project_id: str | None = None,
    project_name: str | None = None,
) -> Dataset:
    name = _check_name(name)
    if project_name and not project_id:
        project_id = projects.get_or_create_project(connection, caller, project_name).id
    type = type or "dataset"
    visibility = visibility or "private"
    if type not in DATASET_TYPES:
        raise InvalidInput(f"dataset type must be one of {', '.join(DATASET_TYPES)}")
    if visibility not in VISIBILITIES:
        raise InvalidInput(f"visibility must be one of {', '.join(VISIBILITIES)}")
    repository = DatasetRepository(connection)
    if repository.get_by_name(caller.workspace, name) is not None:
        raise Conflict(f"Dataset already exists: '{name}'")
    dataset_id = ids.canonical_id(dataset_id, "dataset id") if dataset_id else ids.new_id()
    if repository.exists_elsewhere(dataset_id):
        raise Conflict(f"Dataset already exists with id '{dataset_id}'")
    now = utcnow()
    dataset = Dataset(
        id=dataset_id,
        workspace=caller.workspace,
        name=name,
        description=description,
        type=type,
        visibility=visibility,
        tags=sorted(set(tags or [])),
        project_id=project_id,
        items_count=0,
        latest_version_sequence=0,
        created_at=now,
        created_by=caller.user,
        last_updated_at=now,
        last_updated_by=caller.user,
    )
    with duplicate_is_conflict(connection, f"Dataset already exists: '{name}'"):
        repository.insert(dataset)
    return dataset


def get_or_create_by_name(connection: Connection, caller: Caller, name: str) -> Dataset:
    existing = DatasetRepository(connection).get_by_name(caller.workspace, _check_name(name))
    if existing is not None:
        return existing
    try:
        return create_dataset(connection, caller, name)
    except Conflict:
        return require_dataset_by_name(connection, caller, name)


def require_dataset(
    connection: Connection, caller: Caller, dataset_id: str, lock: bool = False
) -> Dataset:
    dataset_id = ids.canonical_id(dataset_id, "dataset id")
    dataset = DatasetRepository(connection).get(caller.workspace, dataset_id, lock=lock)
    if dataset is None:
        raise NotFound("Dataset not found")
    return dataset


def require_dataset_by_name(connection: Connection, caller: Caller, name: str) -> Dataset:
    # Names are stored trimmed (see _check_name), so they are looked up trimmed too.
    dataset = DatasetRepository(connection).get_by_name(caller.workspace, name.strip())
    if dataset is None:
        raise NotFound("Dataset not found")
    return dataset


def view(connection: Connection, dataset: Dataset) -> DatasetView:
    return _views(connection, dataset.workspace, [dataset])[0]


def _views(connection: Connection, workspace: str, found: list[Dataset]) -> list[DatasetView]:
    dataset_ids = [dataset.id for dataset in found]
    latest = VersionRepository(connection).latest_for(dataset_ids)
    runs = ExperimentRepository(connection).per_dataset(workspace, dataset_ids)
    return [DatasetView(dataset, latest.get(dataset.id), runs.get(dataset.id)) for dataset in found]


def find_datasets(
    connection: Connection,
    caller: Caller,
    page: int = 1,
    size: int = 10,
    query: DatasetQuery | None = None,
) -> DatasetPage:
    """Datasets of the workspace matching ``query`` (datasets created without a project
    count as the default project's); all of them without a query."""
    query = query or DatasetQuery()
    project_id, include_unassigned = None, False
    if query.project_id:
        project = projects.get_project(connection, caller, query.project_id)
        project_id, include_unassigned = project.id, project.name == DEFAULT_PROJECT
    found, total = DatasetRepository(connection).find(
        caller.workspace,
        page,
        size,
        query.name,
        list(query.filters),
        query.sort,
        project_id,
        include_unassigned,
        query.with_experiments_only,
    )
    return DatasetPage(_views(connection, caller.workspace, found), page, size, total)


def update_dataset(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    name: str,
    description: str | None = None,
    visibility: str | None = None,
    tags: list[str] | None = None,
) -> Dataset:
    dataset = require_dataset(connection, caller, dataset_id, lock=True)
    name = _check_name(name)
    repository = DatasetRepository(connection)
    clash = repository.get_by_name(caller.workspace, name)
    if clash is not None and clash.id != dataset.id:
        raise Conflict(f"Dataset already exists: '{name}'")
    if visibility is not None and visibility not in VISIBILITIES:
        raise InvalidInput(f"visibility must be one of {', '.join(VISIBILITIES)}")
    values = {"name": name, "last_updated_at": utcnow(), "last_updated_by": caller.user}
    if description is not None:
        values["description"] = description
    if visibility is not None:
        values["visibility"] = visibility
    if tags is not None:
        values["tags"] = sorted(set(tags))
    repository.update(dataset.id, **values)
    return require_dataset(connection, caller, dataset.id)


def delete_dataset(connection: Connection, caller: Caller, dataset_id: str) -> None:
    """Deleting what is not there is not an error (as in Opik): the result is the same."""
    DatasetRepository(connection).delete(
        caller.workspace, [ids.canonical_id(dataset_id, "dataset id")]
    )


def delete_dataset_by_name(connection: Connection, caller: Caller, name: str) -> None:
    dataset = require_dataset_by_name(connection, caller, name)
    DatasetRepository(connection).delete(caller.workspace, [dataset.id])


def delete_datasets(connection: Connection, caller: Caller, dataset_ids: list[str]) -> None:
    canonical = [ids.canonical_id(dataset_id, "dataset id") for dataset_id in dataset_ids]
    DatasetRepository(connection).delete(caller.workspace, canonical)
