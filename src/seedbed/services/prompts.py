"""The prompt library: create prompts and their versions, find them by name, commit or
number, list a prompt's history, and resolve the versions an experiment links — always
within the caller's workspace.

Prompts may belong to a project. Asked for within a project (the Opik client always
names one), a prompt of another project is not found; a prompt made without a project
is found from any.
"""

import uuid
from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.domain.filters import Filter, Sort
from seedbed.domain.projects import DEFAULT_PROJECT
from seedbed.domain.prompts import (
    DEFAULT_TEMPLATE_TYPE,
    PROMPT_VERSION,
    TEXT,
    NewVersion,
    Prompt,
    PromptVersion,
    PromptVersionLink,
    PromptView,
    check_commit,
    check_description,
    check_name,
    check_template,
    commit_of,
    parse_version_number,
    unique_tags,
)
from seedbed.services import projects
from seedbed.services.context import Caller, utcnow
from seedbed.storage.database import duplicate_is_conflict
from seedbed.storage.repositories.projects import ProjectRepository
from seedbed.storage.repositories.prompts import PromptRepository

PROMPT_NOT_FOUND = "Prompt not found"
VERSION_NOT_FOUND = "Prompt version not found"
NAME_TAKEN = "Prompt id or name already exists"
VERSION_TAKEN = "Prompt version already exists"
# A commit made from a new id can clash with one already taken (8 characters of it);
# a few fresh ids settle it.
_COMMIT_ATTEMPTS = 3


def _id_or_none(value: str | None) -> str | None:
    """A path id in canonical form; ``None`` for text that is no id, which names nothing."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


# -- prompts --------------------------------------------------------------------------------


def _project_id(
    connection: Connection, caller: Caller, project_id: str | None, project_name: str | None
) -> str | None:
    """The project a new prompt belongs to: ``project_id`` first, else ``project_name``
    (made on first use, as Opik does), else none."""
    if project_id:
        return projects.get_project(connection, caller, project_id).id
    if project_name and project_name.strip():
        return projects.get_or_create_project(connection, caller, project_name.strip()).id
    return None


def create_prompt(
    connection: Connection,
    caller: Caller,
    name: str,
    *,
    prompt_id: str | None = None,
    description: str | None = None,
    template_structure: str | None = None,
    tags: list[str] | None = None,
    project_id: str | None = None,
    project_name: str | None = None,
    first_version: NewVersion | None = None,
) -> Prompt:
    """A new prompt, with ``first_version`` as its v1 when given."""
    repository = PromptRepository(connection)
    name = check_name(name)
    prompt_id = ids.canonical_id(prompt_id, "id") if prompt_id else ids.new_id()
    if repository.get_by_name(caller.workspace, name) or repository.id_taken(prompt_id):
        raise Conflict(NAME_TAKEN)
    now = utcnow()
    prompt = Prompt(
        id=prompt_id,
        workspace=caller.workspace,
        project_id=_project_id(connection, caller, project_id, project_name),
        name=name,
        description=check_description(description),
        template_structure=template_structure or TEXT,
        tags=unique_tags(tags),
        created_at=now,
        created_by=caller.user,
        last_updated_at=now,
        last_updated_by=caller.user,
    )
    with duplicate_is_conflict(connection, NAME_TAKEN):
        repository.insert(prompt)
    if first_version is not None:
        _add_version(connection, caller, prompt, first_version)
    return prompt


def _in_scope(
    connection: Connection, caller: Caller, prompt: Prompt, project_name: str | None
) -> bool:
    """Whether the prompt is visible from the project a client named (if it named one)."""
    if prompt.project_id is None or not project_name or not project_name.strip():
        return True
    project = ProjectRepository(connection).get_by_name(caller.workspace, project_name.strip())
    if project is None and project_name.strip() != DEFAULT_PROJECT:
        raise NotFound("Project not found")
    return project is not None and project.id == prompt.project_id


def _prompt_named(
    connection: Connection, caller: Caller, name: str, project_name: str | None = None
) -> Prompt:
    found = PromptRepository(connection).get_by_name(caller.workspace, check_name(name))
    if found is None or not _in_scope(connection, caller, found, project_name):
        raise NotFound(PROMPT_NOT_FOUND)
    return found


def require_prompt(
    connection: Connection, caller: Caller, prompt_id: str, lock: bool = False
) -> Prompt:
    canonical = _id_or_none(prompt_id)
    found = (
        PromptRepository(connection).get(caller.workspace, canonical, lock) if canonical else None
    )
    if found is None:
        raise NotFound(PROMPT_NOT_FOUND)
    return found


def get_prompt(connection: Connection, caller: Caller, prompt_id: str) -> PromptView:
    prompt = require_prompt(connection, caller, prompt_id)
    return PromptView(prompt, PromptRepository(connection).latest_version(prompt.id))


def find_prompts(
    connection: Connection,
    caller: Caller,
    page: int,
    size: int,
    name: str | None = None,
    project_id: str | None = None,
    filters: tuple[Filter, ...] = (),
    sort: Sort | None = None,
) -> tuple[list[Prompt], int]:
    """Prompts whose name contains ``name`` (ignoring case), of ``project_id`` (and those
    of no project), matching ``filters``; newest first unless sorted otherwise."""
    return PromptRepository(connection).find(
        caller.workspace,
        name,
        ids.canonical_id(project_id, "project_id") if project_id else None,
        list(filters),
        sort,
        page,
        size,
    )


def update_prompt(
    connection: Connection,
    caller: Caller,
    prompt_id: str,
    name: str,
    description: str | None = None,
    tags: list[str] | None = None,
) -> None:
    """Rename and describe a prompt; ``tags`` replace its tags when given."""
    prompt = require_prompt(connection, caller, prompt_id)
    name = check_name(name)
    other = PromptRepository(connection).get_by_name(caller.workspace, name)
    if other is not None and other.id != prompt.id:
        raise Conflict(NAME_TAKEN)
    values: dict[str, Any] = {
        "name": name,
        "description": check_description(description),
        "last_updated_at": utcnow(),
        "last_updated_by": caller.user,
    }
    if tags is not None:
        values["tags"] = unique_tags(tags)
    with duplicate_is_conflict(connection, NAME_TAKEN):
        PromptRepository(connection).update(prompt.id, **values)


def delete_prompt(connection: Connection, caller: Caller, prompt_id: str) -> None:
    """One prompt and its versions, as :func:`delete_prompts`; one that is not there is
    NotFound, as Opik answers."""
    delete_prompts(connection, caller, [require_prompt(connection, caller, prompt_id).id])


def delete_prompts(connection: Connection, caller: Caller, prompt_ids: list[str]) -> None:
    """Prompts and their versions. Experiments keep their links (with the prompt's id);
    deleting what is not there is not an error."""
    known = [canonical for value in prompt_ids if (canonical := _id_or_none(value))]
    if known:
        PromptRepository(connection).delete(caller.workspace, known)


# -- versions -------------------------------------------------------------------------------


def _add_version(
    connection: Connection, caller: Caller, prompt: Prompt, new: NewVersion
) -> PromptVersion:
    repository = PromptRepository(connection)
    require_prompt(connection, caller, prompt.id, lock=True)
    mask = new.version_type == "mask"
    for _attempt in range(_COMMIT_ATTEMPTS):
        version_id = ids.canonical_id(new.id, "version.id") if new.id else ids.new_id()
        commit = check_commit(new.commit) if new.commit else commit_of(version_id)
        taken = repository.version_id_taken(version_id) or repository.commit_taken(
            caller.workspace, commit
        )
        if not taken:
            break
        if new.id or new.commit:
            raise Conflict(VERSION_TAKEN)
    else:
        raise Conflict(VERSION_TAKEN)
    version = PromptVersion(
        id=version_id,
        workspace=caller.workspace,
        prompt_id=prompt.id,
        commit=commit,
        sequence=None if mask else repository.last_sequence(prompt.id) + 1,
        template=check_template(new.template),
        metadata=new.metadata,
        type=new.type or DEFAULT_TEMPLATE_TYPE,
        version_type=new.version_type or PROMPT_VERSION,
        change_description=new.change_description,
        tags=unique_tags(new.tags),
        created_at=utcnow(),
        created_by=caller.user,
        template_structure=prompt.template_structure,
    )
    with duplicate_is_conflict(connection, VERSION_TAKEN):
        repository.insert_version(version)
    repository.update(prompt.id, last_updated_at=version.created_at, last_updated_by=caller.user)
    return version


def create_version(
    connection: Connection,
    caller: Caller,
    name: str,
    new: NewVersion,
    template_structure: str | None = None,
    project_id: str | None = None,
    project_name: str | None = None,
) -> PromptVersion:
    """A new version of the prompt called ``name``, made first if there is none. Every
    call makes a version, as in Opik: the client compares with the latest version first
    and only sends a template that changed. ``template_structure`` counts only for a new
    prompt: a prompt's structure never changes."""
    name = check_name(name)
    check_template(new.template)
    prompt = PromptRepository(connection).get_by_name(caller.workspace, name)
    if prompt is None:
        prompt = create_prompt(
            connection,
            caller,
            name,
            template_structure=template_structure,
            project_id=project_id,
            project_name=project_name,
        )
    elif not _in_scope(connection, caller, prompt, project_name):
        raise Conflict(f"Prompt '{name}' already exists in another project")
    return _add_version(connection, caller, prompt, new)


def get_version(connection: Connection, caller: Caller, version_id: str) -> PromptVersion:
    canonical = _id_or_none(version_id)
    found = (
        PromptRepository(connection).get_version(caller.workspace, canonical) if canonical else None
    )
    if found is None:
        raise NotFound(VERSION_NOT_FOUND)
    return found


def versions_by_ids(
    connection: Connection, caller: Caller, version_ids: list[str]
) -> list[PromptVersion]:
    """The versions asked for, in the order asked; any unknown id is a NotFound."""
    wanted = ids.canonical_ids(version_ids, "ids") or []
    found = {
        version.id: version
        for version in PromptRepository(connection).versions_by_ids(caller.workspace, wanted)
    }
    missing = [version_id for version_id in wanted if version_id not in found]
    if missing:
        raise NotFound(VERSION_NOT_FOUND)
    return [found[version_id] for version_id in wanted]


def retrieve_version(
    connection: Connection,
    caller: Caller,
    name: str,
    commit: str | None = None,
    version_number: str | None = None,
    environment: str | None = None,
    project_name: str | None = None,
) -> PromptVersion:
    """The version of the prompt called ``name`` that ``commit`` or ``version_number``
    names; the latest without either."""
    chosen = [value for value in (commit, version_number, environment) if value]
    if len(chosen) > 1:
        raise InvalidInput("commit, version_number and environment are mutually exclusive")
    prompt = _prompt_named(connection, caller, name, project_name)
    repository = PromptRepository(connection)
    if environment:
        found = None  # seedbed maps no environments to versions
    elif commit:
        found = repository.version_by_commit(prompt.id, commit)
    elif version_number:
        found = repository.version_by_sequence(prompt.id, parse_version_number(version_number))
    else:
        found = repository.latest_version(prompt.id)
    if found is None:
        raise NotFound(VERSION_NOT_FOUND)
    return found


def version_by_number(
    connection: Connection, caller: Caller, prompt_id: str, version_number: str
) -> PromptVersion:
    prompt = require_prompt(connection, caller, prompt_id)
    found = PromptRepository(connection).version_by_sequence(
        prompt.id, parse_version_number(version_number)
    )
    if found is None:
        raise NotFound(VERSION_NOT_FOUND)
    return found


def list_versions(
    connection: Connection,
    caller: Caller,
    prompt_id: str,
    page: int,
    size: int,
    search: str | None = None,
    filters: tuple[Filter, ...] = (),
    sort: Sort | None = None,
) -> tuple[list[PromptVersion], int]:
    """A prompt's history, newest first; ``search`` looks in templates and change
    descriptions."""
    prompt = require_prompt(connection, caller, prompt_id)
    return PromptRepository(connection).find_versions(
        prompt.id, search or None, list(filters), sort, page, size
    )


def update_version_tags(
    connection: Connection,
    caller: Caller,
    version_ids: list[str],
    tags: list[str] | None,
    merge: bool = False,
) -> None:
    """Versions are immutable but for their tags: ``tags`` replace them, or with
    ``merge`` join them; ``None`` changes nothing."""
    if tags is None:
        return
    repository = PromptRepository(connection)
    for version in versions_by_ids(connection, caller, version_ids):
        new_tags = unique_tags([*version.tags, *tags] if merge else tags)
        repository.set_version_tags(version.id, new_tags)


# -- what experiments ran -------------------------------------------------------------------


def links_to(
    connection: Connection, caller: Caller, version_ids: list[str]
) -> list[PromptVersionLink]:
    """Links to versions of the caller's prompts, in order, once each. An experiment
    cannot link a version that is not there: that is a Conflict, as in Opik."""
    wanted = ids.canonical_ids(version_ids, "prompt version id") or []
    found = {
        version.id: version
        for version in PromptRepository(connection).versions_by_ids(caller.workspace, wanted)
    }
    if any(version_id not in found for version_id in wanted):
        raise Conflict(VERSION_NOT_FOUND)
    return [
        PromptVersionLink(version_id, found[version_id].prompt_id, found[version_id].commit)
        for version_id in wanted
    ]


def link_experiment(
    connection: Connection, experiment_id: str, links: list[PromptVersionLink]
) -> None:
    PromptRepository(connection).link(experiment_id, links)


def experiment_links(
    connection: Connection, experiment_ids: list[str]
) -> dict[str, list[PromptVersionLink]]:
    return PromptRepository(connection).links_of(experiment_ids)
