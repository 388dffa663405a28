"""SQL shared by traces and spans: rows that clients write in pieces, in any order."""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.traces import NEVER, StampedFields
from seedbed.storage import dialect

_AUDIT = ("created_at", "created_by", "last_updated_at", "last_updated_by")


def _stamps_to_json(stamps: dict[str, dt.datetime]) -> dict[str, str]:
    return {name: moment.isoformat() for name, moment in stamps.items() if moment != NEVER}


def _stamps_from_json(stamps: dict[str, str] | None) -> dict[str, dt.datetime]:
    return {name: dt.datetime.fromisoformat(moment) for name, moment in (stamps or {}).items()}


class MergedRowRepository:
    """A table of traces or spans, written by merging: each write sets the columns it
    carries, where it is later than the write that set them, and keeps every other one."""

    table: sa.Table

    def note_changed(self, workspace: str, ids: list[str], fields: set[str] | None) -> None:
        """Tell experiments' rollups (``experiment_rollups``) that these rows' ``fields``
        changed (``None``: the rows are new or gone)."""
        raise NotImplementedError

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

    def insert_new(
        self,
        workspace: str,
        rows: dict[str, StampedFields],
        default_project_id: str | None,
        by: str,
        when: dt.datetime,
    ) -> None:
        """Insert the rows whose ids are not stored yet (those that are, are left as they
        are). A row goes to the default project unless its fields name one; that
        placement has no time, so any write naming a project moves it."""
        by_columns: dict[tuple[str, ...], list[dict]] = {}
        for row_id in sorted(rows):  # one order for every writer: no deadlock between them
            fields = rows[row_id]
            by_columns.setdefault(tuple(sorted(fields.values)), []).append(
                {
                    "id": row_id,
                    "workspace": workspace,
                    "project_id": default_project_id,
                    **fields.values,
                    "field_stamps": _stamps_to_json(fields.stamps),
                    "created_at": when,
                    "created_by": by,
                    "last_updated_at": when,
                    "last_updated_by": by,
                }
            )
        insert = dialect.insert_ignoring_conflicts(self.dialect, self.table)
        for group in by_columns.values():
            self.connection.execute(insert, group)
        self.note_changed(workspace, list(rows), None)

    def stamped_for_update(self, workspace: str, ids: list[str]) -> dict[str, StampedFields]:
        """The written fields of these rows with their times, locked until the unit of
        work ends (PostgreSQL; SQLite has one writer anyway)."""
        table = self.table
        columns = [table.c[name] for name in self._written_columns()]
        rows = self.connection.execute(
            sa.select(table.c.id, table.c.field_stamps, *columns)
            .where(table.c.workspace == workspace, table.c.id.in_(ids))
            .order_by(table.c.id)
            .with_for_update()
        )
        found = {}
        for row in rows:
            values = {
                column.name: row._mapping[column.name]
                for column in columns
                if row._mapping[column.name] is not None
            }
            found[row.id] = StampedFields(values, _stamps_from_json(row.field_stamps))
        return found

    def rewrite(
        self, rows: dict[str, tuple[StampedFields, dict[str, Any]]], by: str, when: dt.datetime
    ) -> None:
        """Store each row's new field times and the values that changed (``{}``: only the
        times did, and ``last_updated_*`` stay as they are)."""
        table = self.table
        by_columns: dict[tuple[str, ...], list[dict]] = {}
        for row_id in sorted(rows):
            fields, changed = rows[row_id]
            audit = {"last_updated_at": when, "last_updated_by": by} if changed else {}
            values = {**changed, **audit, "field_stamps": _stamps_to_json(fields.stamps)}
            by_columns.setdefault(tuple(sorted(values)), []).append(
                {"row_id": row_id, **{f"new_{name}": value for name, value in values.items()}}
            )
        for names, group in by_columns.items():
            update = (
                table.update()
                .where(table.c.id == sa.bindparam("row_id"))
                .values(
                    {name: sa.bindparam(f"new_{name}", type_=table.c[name].type) for name in names}
                )
            )
            self.connection.execute(update, group)

    def _written_columns(self) -> list[str]:
        """The columns that writes set: all but the id, workspace, duration and audit."""
        derived = {"id", "workspace", "duration_ms", "field_stamps", *_AUDIT}
        return [column.name for column in self.table.columns if column.name not in derived]

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

    def set_durations(self, workspace: str, durations: dict[str, float]) -> None:
        if not durations:
            return
        self.note_changed(workspace, list(durations), {"duration_ms"})
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

    def project_ids(self, workspace: str, ids: list[str]) -> dict[str, str]:
        table = self.table
        rows = self.connection.execute(
            sa.select(table.c.id, table.c.project_id).where(
                table.c.workspace == workspace, table.c.id.in_(ids)
            )
        )
        return {row.id: row.project_id for row in rows}
