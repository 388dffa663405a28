"""generation quality report and review of generated samples

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 05:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        # The run's quality report, written when the job ends.
        batch_op.add_column(sa.Column("report", _JSON, nullable=True))
    with op.batch_alter_table("generation_job_items", schema=None) as batch_op:
        # What the judge measured of the sample (nearest-seed similarity, critic verdict).
        batch_op.add_column(sa.Column("quality", _JSON, nullable=True))
        # A person's review: kept or rejected (with a reason), and the sample as edited.
        batch_op.add_column(sa.Column("review_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_data", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation_job_items", schema=None) as batch_op:
        batch_op.drop_column("reviewed_data")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("review_status")
        batch_op.drop_column("quality")
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        batch_op.drop_column("report")
