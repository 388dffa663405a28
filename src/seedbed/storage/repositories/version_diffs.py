"""SQL for the items that differ between two versions of a dataset, a page at a time.

Only rows written or closed between the two versions can differ (see ``tables.py`` for
the row-validity scheme), so the comparison reads those, not the whole dataset.
"""

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.items import Item
from seedbed.storage.repositories.items import to_item
from seedbed.storage.tables import dataset_items

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
KINDS = (ADDED, REMOVED, CHANGED)


def _visible(rows, sequence: int) -> ColumnElement:
    return sa.and_(
        rows.c.valid_from <= sequence,
        sa.or_(rows.c.valid_to.is_(None), rows.c.valid_to > sequence),
    )


class VersionDiffRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _differences(self, dataset_id: str, before: int, after: int):
        """(item_id, kind, before_row, after_row) for every item that differs."""
        low, high = sorted((before, after))
        rows = dataset_items.c
        touched = (
            sa.select(rows.item_id)
            .where(
                rows.dataset_id == dataset_id,
                sa.or_(
                    sa.and_(rows.valid_from > low, rows.valid_from <= high),
                    sa.and_(rows.valid_to > low, rows.valid_to <= high),
                ),
            )
            .distinct()
            # Read once for both halves below (a CTE used twice is materialized).
            .cte("touched")
        )
        old = dataset_items.alias("old")
        new = dataset_items.alias("new")

        def rows_of(side, sequence: int, other, other_sequence: int):
            """Rows of ``side`` that differ, each joined to its item's row on the other
            side (none when the item is not there)."""
            counterpart = sa.and_(
                other.c.dataset_id == dataset_id,
                other.c.item_id == side.c.item_id,
                _visible(other, other_sequence),
            )
            return side.outerjoin(other, counterpart), [
                side.c.dataset_id == dataset_id,
                _visible(side, sequence),
                side.c.item_id.in_(sa.select(touched.c.item_id)),
            ]

        joined, where = rows_of(new, after, old, before)
        now_present = (
            sa.select(
                new.c.item_id,
                sa.case((old.c.row_id.is_(None), ADDED), else_=CHANGED).label("kind"),
                old.c.row_id.label("before_row"),
                new.c.row_id.label("after_row"),
            )
            .select_from(joined)
            .where(*where, sa.or_(old.c.row_id.is_(None), old.c.content_hash != new.c.content_hash))
        )
        joined, where = rows_of(old, before, new, after)
        gone = (
            sa.select(
                old.c.item_id,
                sa.literal(REMOVED).label("kind"),
                old.c.row_id.label("before_row"),
                sa.null().label("after_row"),
            )
            .select_from(joined)
            .where(*where, new.c.row_id.is_(None))
        )
        return sa.union_all(now_present, gone).subquery("differences")

    def counts(self, dataset_id: str, before: int, after: int) -> dict[str, int]:
        differences = self._differences(dataset_id, before, after)
        found = self.connection.execute(
            sa.select(differences.c.kind, sa.func.count()).group_by(differences.c.kind)
        ).all()
        return {kind: 0 for kind in KINDS} | {kind: count for kind, count in found}

    def page(
        self,
        dataset_id: str,
        before: int,
        after: int,
        kinds: tuple[str, ...],
        page: int,
        size: int,
    ) -> list[tuple[str, str, Item | None, Item | None]]:
        """(kind, item id, item before, item after), by item id."""
        differences = self._differences(dataset_id, before, after)
        found = self.connection.execute(
            sa.select(differences)
            .where(differences.c.kind.in_(kinds))
            .order_by(differences.c.item_id)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        row_ids = [row_id for row in found for row_id in (row.before_row, row.after_row) if row_id]
        items = {
            row.row_id: to_item(row)
            for row in self.connection.execute(
                sa.select(dataset_items).where(dataset_items.c.row_id.in_(row_ids))
            )
        }
        return [
            (row.kind, row.item_id, items.get(row.before_row), items.get(row.after_row))
            for row in found
        ]
