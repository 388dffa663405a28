"""generated items keep the user's fields: Opik's markers move from data to tags

Items saved by seedbed before this revision carried ``_generated`` and
``_generation_model`` inside their data, where they became CSV columns and reached the
user's task in ``evaluate()``. They move to the item's tags (``generated``,
``model:<provider/model>``), every version of the item alike. Each rewritten row gets
its new content hash, and the digest of every version that holds it is corrected, so
that saving the same content again is still "no change". Version hashes are names
people may have written down: they stay as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 05:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from seedbed.domain.items import ItemDraft
from seedbed.domain.provenance_tags import provenance_tags
from seedbed.domain.versions import combine_digest, item_digest
from seedbed.generation.schema import GENERATED_MARKER, GENERATION_MODEL_MARKER, without_markers

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 1_000
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

_items = sa.table(
    "dataset_items",
    sa.column("row_id", sa.BigInteger()),
    sa.column("dataset_id", sa.String()),
    sa.column("item_id", sa.String()),
    sa.column("valid_from", sa.Integer()),
    sa.column("valid_to", sa.Integer()),
    sa.column("source", sa.String()),
    sa.column("trace_id", sa.String()),
    sa.column("span_id", sa.String()),
    sa.column("data", _JSON),
    sa.column("tags", _JSON),
    sa.column("description", sa.Text()),
    sa.column("evaluators", _JSON),
    sa.column("execution_policy", _JSON),
    sa.column("content_hash", sa.String()),
)
_versions = sa.table(
    "dataset_versions",
    sa.column("id", sa.String()),
    sa.column("dataset_id", sa.String()),
    sa.column("sequence", sa.Integer()),
    sa.column("digest", sa.String()),
)
_columns = sa.table("dataset_columns", sa.column("name", sa.String()))


def upgrade() -> None:
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(_items)
            .where(_items.c.row_id > after, _mentions_a_marker())
            .order_by(_items.c.row_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            _move_markers(connection, row)
        after = rows[-1].row_id
    # No live item has the markers any more: neither does the dataset's list of columns.
    connection.execute(
        _columns.delete().where(_columns.c.name.in_([GENERATED_MARKER, GENERATION_MODEL_MARKER]))
    )


def downgrade() -> None:
    # The markers are not put back into data: the tags hold the same facts, and data
    # without them is what every earlier revision reads correctly too.
    pass


def _mentions_a_marker() -> sa.ColumnElement[bool]:
    # A cheap text pre-filter on both engines; each row is checked exactly in Python.
    return sa.cast(_items.c.data, sa.Text()).like("%generat%")


def _move_markers(connection: sa.Connection, row: sa.Row) -> None:
    data = row.data if isinstance(row.data, dict) else None
    if data is None or not (GENERATED_MARKER in data or GENERATION_MODEL_MARKER in data):
        return
    tags = list(row.tags or [])
    if data.get(GENERATED_MARKER):
        model = data.get(GENERATION_MODEL_MARKER)
        added = provenance_tags(model if isinstance(model, str) else None)
        tags += [tag for tag in added if tag not in tags]
    draft = ItemDraft(
        id=row.item_id,
        data=without_markers(data),
        source=row.source,
        trace_id=row.trace_id,
        span_id=row.span_id,
        tags=tags,
        description=row.description,
        evaluators=row.evaluators,
        execution_policy=row.execution_policy,
    )
    content_hash = draft.content_hash()
    connection.execute(
        _items.update()
        .where(_items.c.row_id == row.row_id)
        .values(data=draft.data, tags=tags, content_hash=content_hash)
    )
    _correct_digests(connection, row, item_digest(row.item_id, content_hash))


def _correct_digests(connection: sa.Connection, row: sa.Row, new_digest: int) -> None:
    old_digest = item_digest(row.item_id, row.content_hash)
    holding = [
        _versions.c.dataset_id == row.dataset_id,
        _versions.c.sequence >= row.valid_from,
    ]
    if row.valid_to is not None:
        holding.append(_versions.c.sequence < row.valid_to)
    for version_id, digest in connection.execute(
        sa.select(_versions.c.id, _versions.c.digest).where(*holding)
    ).all():
        corrected = combine_digest(int(digest, 16), added=new_digest, removed=old_digest)
        connection.execute(
            _versions.update()
            .where(_versions.c.id == version_id)
            .values(digest=f"{corrected:032x}")
        )
