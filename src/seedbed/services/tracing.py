"""What writing traces, spans and feedback scores have in common: the projects they name,
and merging writes that arrive in any order."""

import datetime as dt
from dataclasses import replace

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import Conflict
from seedbed.domain.projects import DEFAULT_PROJECT
from seedbed.domain.traces import (
    StampedFields,
    Write,
    apply_tag_changes,
    duration_ms,
    fold_writes,
)
from seedbed.services import projects
from seedbed.services.context import Caller, utcnow
from seedbed.storage.repositories.tracing import MergedRowRepository


class ProjectResolver:
    """Project ids for the names and ids that one request's writes carry, each looked up
    once. A name is created on first use; an id must name a project of the workspace."""

    def __init__(self, connection: Connection, caller: Caller) -> None:
        self.connection = connection
        self.caller = caller
        self._by_name: dict[str, str] = {}
        self._known_ids: set[str] = set()

    def resolve(self, project_name: str | None, project_id: str | None) -> str | None:
        """The project a write names (by id first, as Opik), or ``None`` if it names none."""
        if project_id is not None:
            project_id = ids.canonical_id(project_id, "project id")
            if project_id not in self._known_ids:
                self._known_ids.add(
                    projects.get_project(self.connection, self.caller, project_id).id
                )
            return project_id
        if project_name is None:
            return None
        name = project_name.strip()
        if name not in self._by_name:
            self._by_name[name] = projects.get_or_create_project(
                self.connection, self.caller, name
            ).id
        return self._by_name[name]

    def default(self) -> str:
        return self.resolve(DEFAULT_PROJECT, None)


def store_writes(
    connection: Connection,
    caller: Caller,
    repository: MergedRowRepository,
    kind: str,
    writes: list[Write],
) -> list[str]:
    """Merge traces or spans into what is stored, whatever came before; returns their ids.

    Each field keeps the value of the latest write that carries it (see
    ``domain/traces.py``), so writes made in one order and arriving in another store the
    same thing. A write that names a project moves the row there (if it is the latest to
    name one); a new row that no write placed goes to the default project.
    ``duration_ms`` follows the stored times, so it is right whichever of start and end
    came last.
    """
    resolver = ProjectResolver(connection, caller)
    placed = []
    for write in writes:
        project_id = resolver.resolve(write.project_name, write.project_id)
        placed.append(replace(write, fields={**write.fields, "project_id": project_id}))
    arrived = utcnow()
    incoming = fold_writes(placed, arrived)
    written = list(incoming)
    taken = repository.owned_elsewhere(caller.workspace, written)
    if taken:
        raise Conflict(f"{kind} id already exists in another workspace: {taken[0]}")
    # The default project is made only when a write needs it (it names no project).
    unplaced = any("project_id" not in fields.values for fields in incoming.values())
    default_project_id = resolver.default() if unplaced else None
    repository.insert_new(caller.workspace, incoming, default_project_id, caller.user, arrived)
    _merge_into_stored(repository, caller, incoming, arrived)
    durations = {}
    for row in repository.times(caller.workspace, written):
        ms = duration_ms(row.start_time, row.end_time)
        if ms != row.duration_ms:
            durations[row.id] = ms
    repository.set_durations(caller.workspace, durations)
    return written


def _merge_into_stored(
    repository: MergedRowRepository,
    caller: Caller,
    incoming: dict[str, StampedFields],
    arrived: dt.datetime,
) -> None:
    """Merge fields into stored rows, locked while it is done; a row is rewritten only
    where the merge changes it."""
    stored = repository.stamped_for_update(caller.workspace, list(incoming))
    rewritten = {}
    for row_id, fields in incoming.items():
        before = stored[row_id]
        after = before.then(fields)
        if after != before:
            changed = {
                name: value
                for name, value in after.values.items()
                if before.values.get(name) != value
            }
            rewritten[row_id] = (after, changed)
    repository.rewrite(rewritten, caller.user, arrived)


def patch_row(
    connection: Connection,
    caller: Caller,
    repository: MergedRowRepository,
    kind: str,
    write: Write,
    tags_to_add: list[str] | None,
    tags_to_remove: list[str] | None,
) -> None:
    """Merge one update into a trace or span, which need not exist yet. Tags to add and
    remove apply to the tags as they then stand, as one more write."""
    store_writes(connection, caller, repository, kind, [write])
    if tags_to_add or tags_to_remove:
        stored = repository.tags_for_update(caller.workspace, write.id)
        changed = apply_tag_changes(stored, tags_to_add, tags_to_remove)
        if changed != (stored or []):
            arrived = utcnow()
            tags = Write(write.id, {"tags": changed}).stamped(arrived)
            _merge_into_stored(repository, caller, {write.id: tags}, arrived)
