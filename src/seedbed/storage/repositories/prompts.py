"""SQL for the prompt library: prompts, their versions, and the versions experiments link."""

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.filters import Filter, Sort
from seedbed.domain.prompts import Prompt, PromptVersion, PromptVersionLink
from seedbed.storage import filtering
from seedbed.storage.tables import experiment_prompt_versions, prompt_versions, prompts

_prompts = prompts.c
_versions = prompt_versions.c
_links = experiment_prompt_versions.c

_PROMPT_COLUMNS: filtering.Columns = {
    name: _prompts[name]
    for name in (
        "id",
        "name",
        "description",
        "template_structure",
        "tags",
        "created_at",
        "last_updated_at",
        "created_by",
        "last_updated_by",
    )
}
_VERSION_COLUMNS: filtering.Columns = {
    name: _versions[name]
    for name in (
        "id",
        "commit",
        "template",
        "change_description",
        "type",
        "metadata",
        "tags",
        "created_at",
        "created_by",
    )
}


def linked_to_prompt(experiment_id: ColumnElement, prompt_id: str) -> sa.Exists:
    """A condition on experiments: one of the experiment's links names a version of the
    prompt (kept with the link, so it holds after the version is deleted)."""
    return sa.exists().where(_links.experiment_id == experiment_id, _links.prompt_id == prompt_id)


def _version_count() -> sa.ScalarSelect:
    """How many visible versions (masks left out) the prompt has."""
    return (
        sa.select(sa.func.count())
        .where(_versions.prompt_id == _prompts.id, _versions.sequence.is_not(None))
        .scalar_subquery()
    )


def _to_prompt(row) -> Prompt:
    return Prompt(
        **{name: getattr(row, name) for name in Prompt.__dataclass_fields__ if name != "tags"},
        tags=list(row.tags or []),
    )


def _to_version(row) -> PromptVersion:
    return PromptVersion(
        **{
            name: getattr(row, name)
            for name in PromptVersion.__dataclass_fields__
            if name not in ("tags", "template_structure")
        },
        tags=list(row.tags or []),
        template_structure=row.template_structure,
    )


class PromptRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    # -- prompts ---------------------------------------------------------------------------

    def _select_prompts(self):
        return sa.select(prompts, _version_count().label("version_count"))

    def insert(self, prompt: Prompt) -> None:
        values = {column.name: getattr(prompt, column.name) for column in prompts.columns}
        self.connection.execute(prompts.insert().values(**values))

    def id_taken(self, prompt_id: str) -> bool:
        """Whether an id is taken, in any workspace (ids are global primary keys)."""
        found = self.connection.execute(sa.select(sa.literal(1)).where(_prompts.id == prompt_id))
        return found.first() is not None

    def get(self, workspace: str, prompt_id: str, lock: bool = False) -> Prompt | None:
        query = sa.select(prompts.c.id).where(
            _prompts.workspace == workspace, _prompts.id == prompt_id
        )
        if lock:
            # Serializes the writers of one prompt's versions on PostgreSQL (their numbers).
            self.connection.execute(query.with_for_update()).first()
        row = self.connection.execute(
            self._select_prompts().where(_prompts.workspace == workspace, _prompts.id == prompt_id)
        ).first()
        return _to_prompt(row) if row else None

    def get_by_name(self, workspace: str, name: str) -> Prompt | None:
        row = self.connection.execute(
            self._select_prompts().where(_prompts.workspace == workspace, _prompts.name == name)
        ).first()
        return _to_prompt(row) if row else None

    def find(
        self,
        workspace: str,
        name: str | None,
        project_id: str | None,
        filters: list[Filter],
        sort: Sort | None,
        page: int,
        size: int,
    ) -> tuple[list[Prompt], int]:
        where = [_prompts.workspace == workspace]
        if name:
            where.append(sa.func.lower(_prompts.name).contains(name.lower(), autoescape=True))
        if project_id:
            # Prompts made without a project belong to every project's listing.
            where.append(sa.or_(_prompts.project_id == project_id, _prompts.project_id.is_(None)))
        where += filtering.conditions(self.dialect, _PROMPT_COLUMNS, filters)
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(prompts).where(*where)
        ).scalar_one()
        order = filtering.order_by(self.dialect, _PROMPT_COLUMNS, sort, _prompts.id)
        rows = self.connection.execute(
            self._select_prompts()
            .where(*where)
            .order_by(*order)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        return [_to_prompt(row) for row in rows], total

    def update(self, prompt_id: str, **values) -> None:
        self.connection.execute(prompts.update().where(_prompts.id == prompt_id).values(**values))

    def delete(self, workspace: str, prompt_ids: list[str]) -> None:
        # Versions go by ON DELETE CASCADE; experiments keep their links.
        self.connection.execute(
            prompts.delete().where(_prompts.workspace == workspace, _prompts.id.in_(prompt_ids))
        )

    # -- versions --------------------------------------------------------------------------

    def _select_versions(self):
        return sa.select(prompt_versions, _prompts.template_structure).select_from(
            prompt_versions.join(prompts, _prompts.id == _versions.prompt_id)
        )

    def insert_version(self, version: PromptVersion) -> None:
        values = {column.name: getattr(version, column.name) for column in prompt_versions.columns}
        self.connection.execute(prompt_versions.insert().values(**values))

    def version_id_taken(self, version_id: str) -> bool:
        found = self.connection.execute(sa.select(sa.literal(1)).where(_versions.id == version_id))
        return found.first() is not None

    def commit_taken(self, workspace: str, commit: str) -> bool:
        found = self.connection.execute(
            sa.select(sa.literal(1)).where(
                _versions.workspace == workspace, _versions.commit == commit
            )
        )
        return found.first() is not None

    def last_sequence(self, prompt_id: str) -> int:
        return self.connection.execute(
            sa.select(sa.func.coalesce(sa.func.max(_versions.sequence), 0)).where(
                _versions.prompt_id == prompt_id
            )
        ).scalar_one()

    def _one_version(self, *where) -> PromptVersion | None:
        row = self.connection.execute(self._select_versions().where(*where)).first()
        return _to_version(row) if row else None

    def get_version(self, workspace: str, version_id: str) -> PromptVersion | None:
        return self._one_version(_versions.workspace == workspace, _versions.id == version_id)

    def versions_by_ids(self, workspace: str, version_ids: Iterable[str]) -> list[PromptVersion]:
        rows = self.connection.execute(
            self._select_versions().where(
                _versions.workspace == workspace, _versions.id.in_(list(version_ids))
            )
        ).all()
        return [_to_version(row) for row in rows]

    def latest_version(self, prompt_id: str) -> PromptVersion | None:
        row = self.connection.execute(
            self._select_versions()
            .where(_versions.prompt_id == prompt_id, _versions.sequence.is_not(None))
            .order_by(_versions.sequence.desc())
            .limit(1)
        ).first()
        return _to_version(row) if row else None

    def version_by_commit(self, prompt_id: str, commit: str) -> PromptVersion | None:
        return self._one_version(_versions.prompt_id == prompt_id, _versions.commit == commit)

    def version_by_sequence(self, prompt_id: str, sequence: int) -> PromptVersion | None:
        return self._one_version(_versions.prompt_id == prompt_id, _versions.sequence == sequence)

    def find_versions(
        self,
        prompt_id: str,
        search: str | None,
        filters: list[Filter],
        sort: Sort | None,
        page: int,
        size: int,
    ) -> tuple[list[PromptVersion], int]:
        """A prompt's history (masks left out), newest first unless sorted otherwise."""
        where = [_versions.prompt_id == prompt_id, _versions.sequence.is_not(None)]
        if search:
            where.append(
                sa.or_(
                    sa.func.lower(_versions.template).contains(search.lower(), autoescape=True),
                    sa.func.lower(_versions.change_description).contains(
                        search.lower(), autoescape=True
                    ),
                )
            )
        where += filtering.conditions(self.dialect, _VERSION_COLUMNS, filters)
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(prompt_versions).where(*where)
        ).scalar_one()
        order = filtering.order_by(self.dialect, _VERSION_COLUMNS, sort, _versions.sequence)
        rows = self.connection.execute(
            self._select_versions()
            .where(*where)
            .order_by(*order)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        return [_to_version(row) for row in rows], total

    def set_version_tags(self, version_id: str, tags: list[str]) -> None:
        self.connection.execute(
            prompt_versions.update().where(_versions.id == version_id).values(tags=tags)
        )

    # -- the versions experiments ran ------------------------------------------------------

    def link(self, experiment_id: str, links: list[PromptVersionLink]) -> None:
        if links:
            self.connection.execute(
                experiment_prompt_versions.insert(),
                [
                    {
                        "experiment_id": experiment_id,
                        "prompt_version_id": link.version_id,
                        "prompt_id": link.prompt_id,
                        "position": position,
                    }
                    for position, link in enumerate(links)
                ],
            )

    def links_of(self, experiment_ids: list[str]) -> dict[str, list[PromptVersionLink]]:
        """Each experiment's links in the order they were made, with the commit and the
        prompt's name where the version still exists."""
        if not experiment_ids:
            return {}
        rows = self.connection.execute(
            sa.select(
                _links.experiment_id,
                _links.prompt_version_id,
                sa.func.coalesce(_versions.prompt_id, _links.prompt_id).label("prompt_id"),
                _versions.commit,
                _prompts.name,
                _versions.sequence,
            )
            .select_from(
                experiment_prompt_versions.outerjoin(
                    prompt_versions, _versions.id == _links.prompt_version_id
                ).outerjoin(prompts, _prompts.id == _versions.prompt_id)
            )
            .where(_links.experiment_id.in_(experiment_ids))
            .order_by(_links.experiment_id, _links.position)
        ).all()
        found: dict[str, list[PromptVersionLink]] = {}
        for experiment_id, version_id, prompt_id, commit, prompt_name, sequence in rows:
            number = f"v{sequence}" if sequence is not None else None
            found.setdefault(experiment_id, []).append(
                PromptVersionLink(version_id, prompt_id, commit, prompt_name, number)
            )
        return found
