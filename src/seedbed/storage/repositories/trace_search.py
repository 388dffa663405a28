"""SQL for searching traces and spans: Opik's filters over their columns and over what a
trace's spans, scores and experiment items say about it, newest first."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.filters import Filter, Sort
from seedbed.domain.traces import Span, Trace
from seedbed.storage import dialect, filtering
from seedbed.storage.repositories.spans import span_from_row
from seedbed.storage.repositories.traces import trace_from_row
from seedbed.storage.tables import experiment_items, feedback_scores, spans, traces


@dataclass
class SearchCriteria:
    """Rows of one project: those matching every filter, with ids in
    ``[lowest_id, highest_id]`` when given; for spans, of ``trace_id`` and of ``type``.
    Newest first, or in the order of ``sort`` (then newest first)."""

    project_id: str
    filters: list[Filter] = field(default_factory=list)
    lowest_id: str | None = None
    highest_id: str | None = None
    trace_id: str | None = None
    type: str | None = None
    sort: Sort | None = None


@dataclass(frozen=True)
class Window:
    """Which matching rows to read, newest first: up to ``limit`` of them, below the id
    ``below`` (a stream's cursor) or from ``offset`` (a numbered page)."""

    limit: int
    below: str | None = None
    offset: int = 0


def _usage_key(name: str) -> str:
    return name.removeprefix("usage.")


class TraceSearchRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    # -- what a filter may name ------------------------------------------------------

    def _score(self, workspace: str, entity_type: str, entity_id: ColumnElement):
        """A function from a score name to the entity's average score of that name."""

        def average(name: str) -> ColumnElement:
            scores = feedback_scores.c
            return (
                sa.select(sa.func.avg(scores.value))
                .where(
                    scores.workspace == workspace,
                    scores.entity_type == entity_type,
                    scores.entity_id == entity_id,
                    scores.name == name,
                )
                .scalar_subquery()
            )

        return average

    def _shared_columns(self, workspace: str, table: sa.Table, entity_type: str) -> dict:
        columns = {
            name: table.c[name]
            for name in (
                "id",
                "name",
                "start_time",
                "end_time",
                "input",
                "output",
                "metadata",
                "tags",
                "error_info",
                "source",
                "created_at",
                "last_updated_at",
            )
        }
        columns["input_json"] = table.c.input
        columns["output_json"] = table.c.output
        columns["duration"] = table.c.duration_ms
        columns["feedback_scores"] = self._score(workspace, entity_type, table.c.id)
        return columns

    def _trace_columns(self, workspace: str) -> filtering.Columns:
        of_trace = sa.and_(spans.c.workspace == workspace, spans.c.trace_id == traces.c.id)

        def over_spans(expression: ColumnElement) -> ColumnElement:
            return sa.select(expression).where(of_trace).scalar_subquery()

        def span_score(name: str) -> ColumnElement:
            scores = feedback_scores.c
            return (
                sa.select(sa.func.avg(scores.value))
                .select_from(feedback_scores.join(spans, spans.c.id == scores.entity_id))
                .where(
                    of_trace,
                    scores.workspace == workspace,
                    scores.entity_type == "span",
                    scores.name == name,
                )
                .scalar_subquery()
            )

        columns = self._shared_columns(workspace, traces, "trace")
        columns.update(
            {
                "thread_id": traces.c.thread_id,
                "total_estimated_cost": over_spans(sa.func.sum(spans.c.total_estimated_cost)),
                "span_count": over_spans(sa.func.count()),
                "llm_span_count": over_spans(sa.func.count(sa.case((spans.c.type == "llm", 1)))),
                "span_feedback_scores": span_score,
                "experiment_id": sa.select(sa.func.min(experiment_items.c.experiment_id))
                .where(
                    experiment_items.c.workspace == workspace,
                    experiment_items.c.trace_id == traces.c.id,
                )
                .scalar_subquery(),
            }
        )
        for name in ("usage.total_tokens", "usage.prompt_tokens", "usage.completion_tokens"):
            tokens = dialect.json_number(self.dialect, spans.c.usage, (_usage_key(name),))
            columns[name] = over_spans(sa.func.sum(tokens))
        return columns

    def _span_columns(self, workspace: str) -> filtering.Columns:
        columns = self._shared_columns(workspace, spans, "span")
        for name in ("trace_id", "type", "model", "provider", "total_estimated_cost"):
            columns[name] = spans.c[name]
        for name in ("usage.total_tokens", "usage.prompt_tokens", "usage.completion_tokens"):
            columns[name] = dialect.json_number(self.dialect, spans.c.usage, (_usage_key(name),))
        return columns

    # -- the searches ----------------------------------------------------------------

    def _where(
        self, table: sa.Table, workspace: str, criteria: SearchCriteria, columns
    ) -> list[ColumnElement]:
        where = [table.c.workspace == workspace, table.c.project_id == criteria.project_id]
        if criteria.lowest_id is not None:
            where.append(table.c.id >= criteria.lowest_id)
        if criteria.highest_id is not None:
            where.append(table.c.id <= criteria.highest_id)
        if criteria.trace_id is not None:
            where.append(table.c.trace_id == criteria.trace_id)
        if criteria.type is not None:
            where.append(table.c.type == criteria.type)
        return where + filtering.conditions(self.dialect, columns, criteria.filters)

    def _rows(self, table, workspace: str, criteria: SearchCriteria, columns, window: Window):
        where = self._where(table, workspace, criteria, columns)
        if window.below is not None:
            where.append(table.c.id < window.below)
        order = filtering.order_by(self.dialect, columns, criteria.sort, table.c.id)
        query = sa.select(table).where(*where).order_by(*order)
        return self.connection.execute(query.limit(window.limit).offset(window.offset)).all()

    def _count(self, table, workspace: str, criteria: SearchCriteria, columns) -> int:
        where = self._where(table, workspace, criteria, columns)
        return self.connection.execute(
            sa.select(sa.func.count()).select_from(table).where(*where)
        ).scalar_one()

    def find_traces(self, workspace: str, criteria: SearchCriteria, window: Window) -> list[Trace]:
        rows = self._rows(traces, workspace, criteria, self._trace_columns(workspace), window)
        return [trace_from_row(row) for row in rows]

    def count_traces(self, workspace: str, criteria: SearchCriteria) -> int:
        return self._count(traces, workspace, criteria, self._trace_columns(workspace))

    def find_spans(self, workspace: str, criteria: SearchCriteria, window: Window) -> list[Span]:
        rows = self._rows(spans, workspace, criteria, self._span_columns(workspace), window)
        return [span_from_row(row) for row in rows]

    def count_spans(self, workspace: str, criteria: SearchCriteria) -> int:
        return self._count(spans, workspace, criteria, self._span_columns(workspace))
