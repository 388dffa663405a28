"""the compare view's runs, kept as data arrives

Two tables hold what the compare view filters, groups and sorts on (see
``storage/repositories/experiment_runs.py``): one row per experiment item with the item
row its experiment's pinned version shows and its trace's duration and cost, and one
per experiment item and feedback score. They are filled from the experiments already
stored, by the code that keeps them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment_runs",
        sa.Column("experiment_item_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_version_sequence", sa.Integer(), nullable=False),
        sa.Column("dataset_item_id", sa.String(length=36), nullable=False),
        sa.Column("item_high", sa.BigInteger(), nullable=False),
        sa.Column("item_low", sa.BigInteger(), nullable=False),
        sa.Column("trace_id", sa.String(length=36), nullable=False),
        sa.Column("item_row_id", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("experiment_item_id", name=op.f("pk_experiment_runs")),
    )
    op.create_index(
        "ix_experiment_runs_by_item",
        "experiment_runs",
        ["dataset_id", "item_high", "item_low", "experiment_id", "item_row_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_experiment_runs_dataset_id_dataset_item_id"),
        "experiment_runs",
        ["dataset_id", "dataset_item_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_experiment_runs_experiment_id_dataset_item_id"),
        "experiment_runs",
        ["experiment_id", "dataset_item_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_experiment_runs_trace_id"), "experiment_runs", ["trace_id"], unique=False
    )
    op.create_table(
        "experiment_run_scores",
        sa.Column("experiment_item_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_item_id", sa.String(length=36), nullable=False),
        sa.Column("item_high", sa.BigInteger(), nullable=False),
        sa.Column("item_low", sa.BigInteger(), nullable=False),
        sa.Column("item_row_id", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "experiment_item_id", "name", name=op.f("pk_experiment_run_scores")
        ),
    )
    op.create_index(
        "ix_experiment_run_scores_by_item",
        "experiment_run_scores",
        ["dataset_id", "name", "item_high", "item_low", "experiment_id", "value", "item_row_id"],
        unique=False,
    )
    op.create_index(
        "ix_experiment_run_scores_by_value",
        "experiment_run_scores",
        ["dataset_id", "name", "value", "item_high", "item_low", "experiment_id", "item_row_id"],
        unique=False,
    )
    # Filled by the code that keeps them, so both agree on what they hold.
    from seedbed.storage.repositories.experiment_rollups import ExperimentRollupRepository

    connection = op.get_bind()
    repository = ExperimentRollupRepository(connection)
    for workspace in connection.execute(sa.text("SELECT DISTINCT workspace FROM experiments")):
        repository.rebuild_runs(workspace[0])


def downgrade() -> None:
    op.drop_index("ix_experiment_run_scores_by_value", table_name="experiment_run_scores")
    op.drop_index("ix_experiment_run_scores_by_item", table_name="experiment_run_scores")
    op.drop_table("experiment_run_scores")
    op.drop_index(op.f("ix_experiment_runs_trace_id"), table_name="experiment_runs")
    op.drop_index(
        op.f("ix_experiment_runs_experiment_id_dataset_item_id"), table_name="experiment_runs"
    )
    op.drop_index(
        op.f("ix_experiment_runs_dataset_id_dataset_item_id"), table_name="experiment_runs"
    )
    op.drop_index("ix_experiment_runs_by_item", table_name="experiment_runs")
    op.drop_table("experiment_runs")
