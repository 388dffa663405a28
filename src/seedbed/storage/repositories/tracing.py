"""SQL shared by traces and spans: rows that clients write in pieces, in any order."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.traces import Write
from seedbed.storage import dialect


class MergedRowRepository:
    """A table of traces or spans, written by merging: each write sets the columns it
    carries and keeps the stored value of every other one."""

    table: sa.Table

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def owned_elsewhere(self, workspace: str, ids: list[str]) -> list[str]:
        """Which of these ids another workspace holds (ids are global primary keys)."""
        table = self.table
        return list(
            self.connection.execute(
                sa.select(table.c.id).where(table.c.id.in_(ids), table.c.workspace != workspace)
            ).scalars()
        )

    def merge(
        self,
        workspace: str,
        writes: list[Write],
        default_project_id: str | None,
        by: str,
        when: dt.datetime,
    ) -> None:
        """Insert new rows, merge into existing ones. A new row goes to the default
        project unless its write names one. A row that a write leaves as it was keeps its
        ``last_updated_*``, so a retried batch changes nothing. Writes must name distinct
        ids (see ``fold_writes``)."""
        by_columns: dict[tuple[str, ...], list[Write]] = {}
        for write in writes:
            by_columns.setdefault(tuple(sorted(write.fields)), []).append(write)
        for columns, group in by_columns.items():
            rows = [
                {
                    "id": write.id,
                    "workspace": workspace,
                    "project_id": default_project_id,
                    **write.fields,
                    "created_at": when,
                    "created_by": by,
                    "last_updated_at": when,
                    "last_updated_by": by,
                }
                for write in group
            ]
            self.connection.execute(self._merging(columns), rows)

    def _merging(self, columns: tuple[str, ...]):
        table = self.table
        if not columns:
            return dialect.insert_ignoring_conflicts(self.dialect, table)

        def changes(new) -> dict:
            return {
                **{column: new[column] for column in columns},
                "last_updated_at": new.last_updated_at,
                "last_updated_by": new.last_updated_by,
            }

        def when(new):
            changed = sa.or_(*(table.c[column].is_distinct_from(new[column]) for column in columns))
            return sa.and_(table.c.workspace == new.workspace, changed)

        return dialect.insert_or_update(self.dialect, table, changes, when)

    def times(self, workspace: str, ids: list[str]) -> list[sa.Row]:
        """``id, start_time, end_time, duration_ms`` of the rows that have both times."""
        table = self.table
        return self.connection.execute(
            sa.select(table.c.id, table.c.start_time, table.c.end_time, table.c.duration_ms).where(
                table.c.workspace == workspace,
                table.c.id.in_(ids),
                table.c.start_time.is_not(None),
                table.c.end_time.is_not(None),
            )
        ).all()

    def set_durations(self, durations: dict[str, float]) -> None:
        if not durations:
            return
        table = self.table
        self.connection.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(duration_ms=sa.bindparam("ms")),
            [{"row_id": row_id, "ms": ms} for row_id, ms in durations.items()],
        )

    def tags_for_update(self, workspace: str, row_id: str) -> list[str] | None:
        """A row's tags, locked until the unit of work ends (PostgreSQL; SQLite has one
        writer anyway)."""
        table = self.table
        query = sa.select(table.c.tags).where(table.c.workspace == workspace, table.c.id == row_id)
        return self.connection.execute(query.with_for_update()).scalar_one_or_none()

    def set_tags(self, row_id: str, tags: list[str], by: str, when: dt.datetime) -> None:
        self.connection.execute(
            self.table.update()
            .where(self.table.c.id == row_id)
            .values(tags=tags, last_updated_at=when, last_updated_by=by)
        )

    def project_ids(self, workspace: str, ids: list[str]) -> dict[str, str]:
        table = self.table
        rows = self.connection.execute(
            sa.select(table.c.id, table.c.project_id).where(
                table.c.workspace == workspace, table.c.id.in_(ids)
            )
        )
        return {row.id: row.project_id for row in rows}
