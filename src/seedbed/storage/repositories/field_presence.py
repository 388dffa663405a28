"""SQL for how often each top-level field is present in a dataset's live items (the
counts the version writer keeps per field and JSON type)."""

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.storage.tables import dataset_columns


class FieldPresenceRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def presence(self, dataset_id: str) -> dict[str, int]:
        """Field name -> live items having it (an item has one type per field, so the
        counts per type add up)."""
        columns = dataset_columns.c
        rows = self.connection.execute(
            sa.select(columns.name, sa.func.sum(columns.item_count))
            .where(columns.dataset_id == dataset_id)
            .group_by(columns.name)
            .order_by(columns.name)
        ).all()
        return {name: int(count) for name, count in rows}
