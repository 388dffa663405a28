"""experiment aggregates kept as data arrives

Three tables hold what each experiment's traces add up to (see
``storage/repositories/experiment_rollups.py``): the traces each experiment links with
what each adds, the per-experiment counts, cost and duration percentiles, and the sums
per score and usage name. They are filled from the experiments already stored.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "experiment_traces",
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("trace_id", sa.String(length=36), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("contribution", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "trace_id", name=op.f("pk_experiment_traces")),
    )
    op.create_index(
        op.f("ix_experiment_traces_trace_id"), "experiment_traces", ["trace_id"], unique=False
    )
    op.create_index(
        op.f("ix_experiment_traces_experiment_id_duration_ms"),
        "experiment_traces",
        ["experiment_id", "duration_ms"],
        unique=False,
    )
    op.create_table(
        "experiment_rollups",
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("trace_count", sa.Integer(), nullable=False),
        sa.Column("dataset_item_count", sa.Integer(), nullable=False),
        sa.Column("duration_count", sa.Integer(), nullable=False),
        sa.Column("duration_p50", sa.Float(), nullable=True),
        sa.Column("duration_p90", sa.Float(), nullable=True),
        sa.Column("duration_p99", sa.Float(), nullable=True),
        sa.Column("cost_total", sa.Float(), nullable=False),
        sa.Column("cost_traces", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", name=op.f("pk_experiment_rollups")),
    )
    op.create_table(
        "experiment_rollup_sums",
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("traces", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "experiment_id", "kind", "name", name=op.f("pk_experiment_rollup_sums")
        ),
    )
    # Filled by the code that keeps them, so both agree on what they hold.
    from seedbed.storage.repositories.experiment_rollups import ExperimentRollupRepository

    connection = op.get_bind()
    repository = ExperimentRollupRepository(connection)
    for workspace in connection.execute(sa.text("SELECT DISTINCT workspace FROM experiments")):
        repository.rebuild(workspace[0], with_runs=False)  # runs are kept from 0010 on


def downgrade() -> None:
    op.drop_table("experiment_rollup_sums")
    op.drop_table("experiment_rollups")
    op.drop_index(
        op.f("ix_experiment_traces_experiment_id_duration_ms"), table_name="experiment_traces"
    )
    op.drop_index(op.f("ix_experiment_traces_trace_id"), table_name="experiment_traces")
    op.drop_table("experiment_traces")
