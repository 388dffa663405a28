"""SQL for projects."""

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.projects import Project
from seedbed.storage.tables import projects


def _to_project(row) -> Project:
    return Project(**{column: getattr(row, column) for column in Project.__dataclass_fields__})


class ProjectRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def insert(self, project: Project) -> None:
        self.connection.execute(projects.insert().values(**project.__dict__))

    def get(self, workspace: str, project_id: str) -> Project | None:
        row = self.connection.execute(
            sa.select(projects).where(
                projects.c.workspace == workspace, projects.c.id == project_id
            )
        ).first()
        return _to_project(row) if row else None

    def get_by_name(self, workspace: str, name: str) -> Project | None:
        row = self.connection.execute(
            sa.select(projects).where(projects.c.workspace == workspace, projects.c.name == name)
        ).first()
        return _to_project(row) if row else None

    def find(
        self, workspace: str, page: int, size: int, name: str | None
    ) -> tuple[list[Project], int]:
        where = [projects.c.workspace == workspace]
        if name:
            where.append(sa.func.lower(projects.c.name).contains(name.lower(), autoescape=True))
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(projects).where(*where)
        ).scalar_one()
        rows = self.connection.execute(
            sa.select(projects)
            .where(*where)
            .order_by(projects.c.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        return [_to_project(row) for row in rows], total
