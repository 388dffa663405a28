"""SQL for dataset export jobs."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.exports import ExportJob
from seedbed.storage.tables import dataset_export_jobs as jobs


def _to_job(row) -> ExportJob:
    return ExportJob(**{name: getattr(row, name) for name in ExportJob.__dataclass_fields__})


class ExportJobRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def insert(self, job: ExportJob) -> None:
        self.connection.execute(jobs.insert().values(**job.__dict__))

    def get(self, workspace: str, job_id: str) -> ExportJob | None:
        row = self.connection.execute(
            sa.select(jobs).where(jobs.c.workspace == workspace, jobs.c.id == job_id)
        ).first()
        return _to_job(row) if row else None

    def all(self, workspace: str, limit: int = 100) -> list[ExportJob]:
        rows = self.connection.execute(
            sa.select(jobs)
            .where(jobs.c.workspace == workspace)
            .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
            .limit(limit)
        ).all()
        return [_to_job(row) for row in rows]

    def mark_viewed(self, job_id: str, when: dt.datetime, by: str) -> None:
        self.connection.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.viewed_at.is_(None))
            .values(viewed_at=when, last_updated_at=when, last_updated_by=by)
        )
