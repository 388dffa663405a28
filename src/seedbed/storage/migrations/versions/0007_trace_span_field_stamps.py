"""traces and spans remember when each of their fields was written

Clients write a trace or span several times from different threads (an early create,
then the full one), and the writes may arrive in either order. ``field_stamps`` holds,
for each field, the time of the write that set it (the client's ``last_updated_at``, or
when the write arrived), so a later write always wins, whatever the arrival order. Rows
written before this revision have none: any write replaces their fields, as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    for table in ("traces", "spans"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("field_stamps", _JSON, nullable=True))


def downgrade() -> None:
    for table in ("spans", "traces"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("field_stamps")
