"""SQL for traces."""

import sqlalchemy as sa

from seedbed.domain.traces import Trace
from seedbed.storage.repositories.tracing import MergedRowRepository
from seedbed.storage.tables import traces


def _to_trace(row) -> Trace:
    return Trace(**{column: getattr(row, column) for column in Trace.__dataclass_fields__})


class TraceRepository(MergedRowRepository):
    table = traces

    def get(self, workspace: str, trace_id: str) -> Trace | None:
        row = self.connection.execute(
            sa.select(traces).where(traces.c.workspace == workspace, traces.c.id == trace_id)
        ).first()
        return _to_trace(row) if row else None

    def by_ids(self, workspace: str, trace_ids: list[str]) -> list[Trace]:
        """The workspace's traces among ``trace_ids``, oldest first."""
        rows = self.connection.execute(
            sa.select(traces)
            .where(traces.c.workspace == workspace, traces.c.id.in_(trace_ids))
            .order_by(traces.c.id)
        )
        return [_to_trace(row) for row in rows]

    def find(
        self, workspace: str, project_id: str, page: int, size: int
    ) -> tuple[list[Trace], int]:
        """A project's traces, newest first (client ids are time-ordered UUIDv7s)."""
        where = [traces.c.workspace == workspace, traces.c.project_id == project_id]
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(traces).where(*where)
        ).scalar_one()
        rows = self.connection.execute(
            sa.select(traces)
            .where(*where)
            .order_by(traces.c.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        return [_to_trace(row) for row in rows], total

    def delete(self, workspace: str, trace_ids: list[str]) -> None:
        self.connection.execute(
            traces.delete().where(traces.c.workspace == workspace, traces.c.id.in_(trace_ids))
        )
