"""the prompt library: prompts, their versions, and the versions experiments ran

Experiments kept the prompt versions a client linked as a JSON list of ids
(``experiments.prompt_versions``). They move to ``experiment_prompt_versions``, one row
per link in the order the client gave them, and the column goes; the prompt of such an
old link is not known (seedbed kept no prompts then), so its ``prompt_id`` stays null.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

_experiments = sa.table(
    "experiments", sa.column("id", sa.String()), sa.column("prompt_versions", _JSON)
)
_links = sa.table(
    "experiment_prompt_versions",
    sa.column("experiment_id", sa.String()),
    sa.column("prompt_version_id", sa.String()),
    sa.column("prompt_id", sa.String()),
    sa.column("position", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("template_structure", sa.String(length=8), nullable=False),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_updated_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("workspace", "name", name=op.f("uq_prompts_workspace_name")),
    )
    op.create_table(
        "prompt_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace", sa.String(length=255), nullable=False),
        sa.Column("prompt_id", sa.String(length=36), nullable=False),
        sa.Column("commit", sa.String(length=8), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("metadata", _JSON, nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("version_type", sa.String(length=16), nullable=False),
        sa.Column("change_description", sa.Text(), nullable=True),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["prompts.id"],
            name=op.f("fk_prompt_versions_prompt_id_prompts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_versions")),
        sa.UniqueConstraint(
            "prompt_id", "sequence", name=op.f("uq_prompt_versions_prompt_id_sequence")
        ),
        sa.UniqueConstraint(
            "workspace", "commit", name=op.f("uq_prompt_versions_workspace_commit")
        ),
    )
    op.create_table(
        "experiment_prompt_versions",
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("prompt_version_id", sa.String(length=36), nullable=False),
        sa.Column("prompt_id", sa.String(length=36), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "experiment_id", "prompt_version_id", name=op.f("pk_experiment_prompt_versions")
        ),
    )
    with op.batch_alter_table("experiment_prompt_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_prompt_versions_prompt_id"), ["prompt_id"], unique=False
        )

    connection = op.get_bind()
    _move_links_out_of_experiments(connection)
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_column("prompt_versions")


def downgrade() -> None:
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prompt_versions", _JSON, nullable=True))
    connection = op.get_bind()
    _move_links_back_into_experiments(connection)
    with op.batch_alter_table("experiment_prompt_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_prompt_versions_prompt_id"))
    op.drop_table("experiment_prompt_versions")
    op.drop_table("prompt_versions")
    op.drop_table("prompts")


def _canonical(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def _move_links_out_of_experiments(connection: sa.Connection) -> None:
    rows = connection.execute(
        sa.select(_experiments.c.id, _experiments.c.prompt_versions).where(
            _experiments.c.prompt_versions.is_not(None)
        )
    ).all()
    for experiment_id, links in rows:
        version_ids = [_canonical(link.get("id")) for link in links or [] if isinstance(link, dict)]
        unique = [version_id for version_id in dict.fromkeys(version_ids) if version_id]
        if unique:
            connection.execute(
                _links.insert(),
                [
                    {
                        "experiment_id": experiment_id,
                        "prompt_version_id": version_id,
                        "prompt_id": None,
                        "position": position,
                    }
                    for position, version_id in enumerate(unique)
                ],
            )


def _move_links_back_into_experiments(connection: sa.Connection) -> None:
    links: dict[str, list[dict]] = {}
    for experiment_id, version_id in connection.execute(
        sa.select(_links.c.experiment_id, _links.c.prompt_version_id).order_by(
            _links.c.experiment_id, _links.c.position
        )
    ):
        links.setdefault(experiment_id, []).append({"id": version_id})
    for experiment_id, versions in links.items():
        connection.execute(
            _experiments.update()
            .where(_experiments.c.id == experiment_id)
            .values(prompt_versions=versions)
        )
