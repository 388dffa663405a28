"""Projects: found by name, created on first use."""

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.domain.projects import DEFAULT_PROJECT, Project
from seedbed.services.context import Caller, utcnow
from seedbed.storage.database import duplicate_is_conflict
from seedbed.storage.repositories.projects import ProjectRepository


def create_project(
    connection: Connection,
    caller: Caller,
    name: str,
    description: str | None = None,
    visibility: str | None = None,
) -> Project:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("project name must not be blank")
    repository = ProjectRepository(connection)
    if repository.get_by_name(caller.workspace, name) is not None:
        raise Conflict(f"Project already exists: '{name}'")
    now = utcnow()
    project = Project(
        id=ids.new_id(),
        workspace=caller.workspace,
        name=name,
        description=description,
        visibility=visibility or "private",
        created_at=now,
        created_by=caller.user,
        last_updated_at=now,
        last_updated_by=caller.user,
    )
    with duplicate_is_conflict(connection, f"Project already exists: '{name}'"):
        repository.insert(project)
    return project


def get_or_create_project(connection: Connection, caller: Caller, name: str) -> Project:
    found = ProjectRepository(connection).get_by_name(caller.workspace, name.strip())
    if found is not None:
        return found
    try:
        return create_project(connection, caller, name)
    except Conflict:
        return ProjectRepository(connection).get_by_name(caller.workspace, name.strip())


def retrieve_project(connection: Connection, caller: Caller, name: str) -> Project:
    """A project by name; the default project always exists."""
    if name.strip() == DEFAULT_PROJECT:
        return get_or_create_project(connection, caller, DEFAULT_PROJECT)
    found = ProjectRepository(connection).get_by_name(caller.workspace, name.strip())
    if found is None:
        raise NotFound("Project not found")
    return found


def get_project(connection: Connection, caller: Caller, project_id: str) -> Project:
    found = ProjectRepository(connection).get(
        caller.workspace, ids.canonical_id(project_id, "project id")
    )
    if found is None:
        raise NotFound("Project not found")
    return found


def find_projects(connection: Connection, caller: Caller, page: int, size: int, name: str | None):
    return ProjectRepository(connection).find(caller.workspace, page, size, name)
