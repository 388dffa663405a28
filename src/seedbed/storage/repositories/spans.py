"""SQL for spans."""

import sqlalchemy as sa

from seedbed.domain.traces import Span, SpanTotals
from seedbed.storage.repositories import experiment_rollups
from seedbed.storage.repositories.tracing import MergedRowRepository
from seedbed.storage.tables import spans

# Span fields that experiments' aggregates depend on.
_ROLLED_UP = {"usage", "total_estimated_cost", "trace_id"}


def span_from_row(row) -> Span:
    return Span(**{column: getattr(row, column) for column in Span.__dataclass_fields__})


class SpanRepository(MergedRowRepository):
    table = spans

    def note_changed(self, workspace: str, ids: list[str], fields: set[str] | None) -> None:
        """The traces of these spans changed, where usage, cost or trace did."""
        if fields is None or fields & _ROLLED_UP:
            self._note_traces_of(ids)

    def rewrite(self, rows, by, when) -> None:
        """As for any merged row; a span that moves to another trace changes both."""
        moved = [row_id for row_id, (_, changed) in rows.items() if _ROLLED_UP & set(changed)]
        self._note_traces_of(moved)  # the traces they leave
        super().rewrite(rows, by, when)
        self._note_traces_of(moved)  # and those they join

    def _note_traces_of(self, span_ids: list[str]) -> None:
        if not span_ids:
            return
        found = self.connection.execute(
            sa.select(spans.c.workspace, spans.c.trace_id).where(spans.c.id.in_(span_ids))
        )
        for workspace, trace_id in found:
            experiment_rollups.note_traces(self.connection, workspace, [trace_id])

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
        experiment_rollups.note_traces(self.connection, workspace, trace_ids)
        self.connection.execute(
            spans.delete().where(spans.c.workspace == workspace, spans.c.trace_id.in_(trace_ids))
        )
