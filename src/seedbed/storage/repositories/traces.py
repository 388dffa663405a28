"""SQL for traces."""

import sqlalchemy as sa

from seedbed.domain.traces import Trace
from seedbed.storage.repositories import experiment_rollups
from seedbed.storage.repositories.tracing import MergedRowRepository
from seedbed.storage.tables import traces


def trace_from_row(row) -> Trace:
    return Trace(**{column: getattr(row, column) for column in Trace.__dataclass_fields__})


class TraceRepository(MergedRowRepository):
    table = traces

    def note_changed(self, workspace: str, ids: list[str], fields: set[str] | None) -> None:
        """Of a trace's own fields, experiments' aggregates depend on its duration."""
        if fields is None or "duration_ms" in fields:
            experiment_rollups.note_traces(self.connection, workspace, ids)

    def get(self, workspace: str, trace_id: str) -> Trace | None:
        row = self.connection.execute(
            sa.select(traces).where(traces.c.workspace == workspace, traces.c.id == trace_id)
        ).first()
        return trace_from_row(row) if row else None

    def by_ids(self, workspace: str, trace_ids: list[str]) -> list[Trace]:
        """The workspace's traces among ``trace_ids``, oldest first."""
        rows = self.connection.execute(
            sa.select(traces)
            .where(traces.c.workspace == workspace, traces.c.id.in_(trace_ids))
            .order_by(traces.c.id)
        )
        return [trace_from_row(row) for row in rows]

    def delete(self, workspace: str, trace_ids: list[str]) -> None:
        self.note_changed(workspace, trace_ids, None)
        self.connection.execute(
            traces.delete().where(traces.c.workspace == workspace, traces.c.id.in_(trace_ids))
        )
