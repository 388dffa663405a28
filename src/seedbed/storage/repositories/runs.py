"""SQL for what the traces of a page of experiment items hold: input, output, duration,
cost and usage summed over their spans, and their feedback scores by author."""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.experiments import ExperimentItem, Run, ScoreValue
from seedbed.storage import dialect as sql_dialect
from seedbed.storage.tables import feedback_scores, spans, traces

_CHUNK = 500


@dataclass
class _TraceContents:
    input: Any = None
    output: Any = None
    duration: float | None = None
    total_estimated_cost: float | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    scores: list[ScoreValue] = field(default_factory=list)


class RunRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def _chunks(self, trace_ids: list[str]):
        for start in range(0, len(trace_ids), _CHUNK):
            yield trace_ids[start : start + _CHUNK]

    def runs(
        self, workspace: str, items: list[ExperimentItem], with_input: bool = True
    ) -> list[Run]:
        """Each item with its trace's contents (absent ones stay empty: a trace, span or
        score may not have arrived yet)."""
        trace_ids = sorted({item.trace_id for item in items})
        found = {trace_id: _TraceContents() for trace_id in trace_ids}
        for chunk in self._chunks(trace_ids):
            self._read_traces(workspace, chunk, found, with_input)
            self._read_costs(workspace, chunk, found)
            self._read_usage(workspace, chunk, found)
            self._read_scores(workspace, chunk, found)
        return [Run(item=item, **found[item.trace_id].__dict__) for item in items]

    def _read_traces(
        self, workspace: str, chunk: list[str], found: dict[str, _TraceContents], with_input: bool
    ) -> None:
        columns = [traces.c.id, traces.c.output, traces.c.duration_ms]
        if with_input:
            columns.append(traces.c.input)
        rows = self.connection.execute(
            sa.select(*columns).where(traces.c.workspace == workspace, traces.c.id.in_(chunk))
        )
        for row in rows:
            run = found[row.id]
            run.output, run.duration = row.output, row.duration_ms
            run.input = row.input if with_input else None

    def _read_costs(
        self, workspace: str, chunk: list[str], found: dict[str, _TraceContents]
    ) -> None:
        rows = self.connection.execute(
            sa.select(spans.c.trace_id, sa.func.sum(spans.c.total_estimated_cost).label("cost"))
            .where(spans.c.workspace == workspace, spans.c.trace_id.in_(chunk))
            .group_by(spans.c.trace_id)
        )
        for row in rows:
            found[row.trace_id].total_estimated_cost = row.cost

    def _read_usage(
        self, workspace: str, chunk: list[str], found: dict[str, _TraceContents]
    ) -> None:
        entries, key, number, _ = sql_dialect.json_object_entries(self.dialect, spans.c.usage)
        rows = self.connection.execute(
            sa.select(spans.c.trace_id, key.label("key"), sa.func.sum(number).label("total"))
            .select_from(spans.join(entries, sa.true()))
            .where(spans.c.workspace == workspace, spans.c.trace_id.in_(chunk), number.is_not(None))
            .group_by(spans.c.trace_id, key)
        )
        for row in rows:
            total = row.total
            found[row.trace_id].usage[row.key] = int(total) if float(total).is_integer() else total

    def _read_scores(
        self, workspace: str, chunk: list[str], found: dict[str, _TraceContents]
    ) -> None:
        rows = self.connection.execute(
            sa.select(feedback_scores)
            .where(
                feedback_scores.c.workspace == workspace,
                feedback_scores.c.entity_type == "trace",
                feedback_scores.c.entity_id.in_(chunk),
            )
            .order_by(
                feedback_scores.c.name, feedback_scores.c.last_updated_at, feedback_scores.c.author
            )
        )
        for row in rows:
            found[row.entity_id].scores.append(
                ScoreValue(
                    name=row.name,
                    value=row.value,
                    author=row.author,
                    reason=row.reason,
                    category_name=row.category_name,
                    source=row.source,
                    created_at=row.created_at,
                    created_by=row.created_by,
                    last_updated_at=row.last_updated_at,
                    last_updated_by=row.last_updated_by,
                )
            )
