"""SQL for spans."""

import sqlalchemy as sa

from seedbed.domain.traces import Span, SpanTotals
from seedbed.storage.repositories.tracing import MergedRowRepository
from seedbed.storage.tables import spans


def span_from_row(row) -> Span:
    return Span(**{column: getattr(row, column) for column in Span.__dataclass_fields__})


class SpanRepository(MergedRowRepository):
    table = spans

    def get(self, workspace: str, span_id: str) -> Span | None:
        row = self.connection.execute(
            sa.select(spans).where(spans.c.workspace == workspace, spans.c.id == span_id)
        ).first()
        return span_from_row(row) if row else None

    def _oldest_first(self, workspace: str, condition) -> list[Span]:
        rows = self.connection.execute(
            sa.select(spans).where(spans.c.workspace == workspace, condition).order_by(spans.c.id)
        )
        return [span_from_row(row) for row in rows]

    def by_ids(self, workspace: str, span_ids: list[str]) -> list[Span]:
        """The workspace's spans among ``span_ids``, oldest first."""
        return self._oldest_first(workspace, spans.c.id.in_(span_ids))

    def of_traces(self, workspace: str, trace_ids: list[str]) -> list[Span]:
        """Every span of the given traces, in the order they began (by id)."""
        return self._oldest_first(workspace, spans.c.trace_id.in_(trace_ids))

    def totals(self, workspace: str, trace_ids: list[str]) -> dict[str, SpanTotals]:
        """Span count, usage and cost of each trace (a trace without spans has none)."""
        rows = self.connection.execute(
            sa.select(
                spans.c.trace_id,
                spans.c.usage,
                spans.c.total_estimated_cost,
                spans.c.type,
                spans.c.provider,
            )
            .where(spans.c.workspace == workspace, spans.c.trace_id.in_(trace_ids))
            .order_by(spans.c.id)
        )
        totals = {trace_id: SpanTotals() for trace_id in trace_ids}
        for row in rows:
            totals[row.trace_id].add(row.usage, row.total_estimated_cost, row.type, row.provider)
        return totals

    def delete_in_traces(self, workspace: str, trace_ids: list[str]) -> None:
        self.connection.execute(
            spans.delete().where(spans.c.workspace == workspace, spans.c.trace_id.in_(trace_ids))
        )
