"""SQL for dataset items across versions (see ``tables.py`` for the row-validity scheme)."""

from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from seedbed.domain.filters import Filter, Sort
from seedbed.domain.items import Column, Item, data_columns
from seedbed.storage import dialect as sql_dialect
from seedbed.storage import filtering
from seedbed.storage.repositories import experiment_rollups
from seedbed.storage.tables import dataset_columns, dataset_items, datasets

_items = dataset_items.c


def filter_columns(dialect: str) -> dict[str, ColumnElement]:
    """The columns item filters and sorting name (the compare view's too)."""
    return {
        "id": _items.item_id,
        "data": _items.data,
        "full_data": sql_dialect.json_as_text(dialect, _items.data),
        "source": _items.source,
        "trace_id": _items.trace_id,
        "span_id": _items.span_id,
        "tags": _items.tags,
        "description": _items.description,
        "created_at": _items.created_at,
        "last_updated_at": _items.last_updated_at,
        "created_by": _items.created_by,
        "last_updated_by": _items.last_updated_by,
    }


def visible_in(sequence: int | None) -> ColumnElement:
    """Rows of the live draft (``None``) or of one version."""
    if sequence is None:
        return _items.valid_to.is_(None)
    return sa.and_(
        _items.valid_from <= sequence, sa.or_(_items.valid_to.is_(None), _items.valid_to > sequence)
    )


def to_item(row) -> Item:
    return Item(
        id=row.item_id,
        dataset_id=row.dataset_id,
        data=row.data,
        source=row.source,
        trace_id=row.trace_id,
        span_id=row.span_id,
        tags=list(row.tags or []),
        description=row.description,
        evaluators=row.evaluators,
        execution_policy=row.execution_policy,
        created_at=row.created_at,
        created_by=row.created_by,
        last_updated_at=row.last_updated_at,
        last_updated_by=row.last_updated_by,
        content_hash=row.content_hash,
    )


class ItemRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    # -- reads ---------------------------------------------------------------------------

    def _where(
        self, dataset_id: str, sequence: int | None, filters: list[Filter]
    ) -> list[ColumnElement]:
        return [
            _items.dataset_id == dataset_id,
            visible_in(sequence),
            *filtering.conditions(self.dialect, filter_columns(self.dialect), filters),
        ]

    def page(
        self,
        dataset_id: str,
        sequence: int | None,
        filters: list[Filter],
        sort: Sort | None,
        page: int,
        size: int,
    ) -> tuple[list[Item], int]:
        where = self._where(dataset_id, sequence, filters)
        order = filtering.order_by(self.dialect, filter_columns(self.dialect), sort, _items.item_id)
        query = (
            sa.select(dataset_items)
            .where(*where)
            .order_by(*order)
            .limit(size)
            .offset((page - 1) * size)
        )
        if filters or sort:
            # Filtering or sorting on data reads every matching row anyway: let the total
            # ride along with the page, one pass instead of two.
            rows = self.connection.execute(
                query.add_columns(sa.func.count().over().label("_total"))
            ).all()
            if rows:
                return [to_item(row) for row in rows], rows[0]._total
        else:
            # Unfiltered, newest first: the live-row index serves the page without a scan.
            rows = self.connection.execute(query).all()
        total = self.connection.execute(
            sa.select(sa.func.count()).select_from(dataset_items).where(*where)
        ).scalar_one()
        return [to_item(row) for row in rows], total

    def stream(
        self,
        dataset_id: str,
        sequence: int | None,
        filters: list[Filter],
        before_id: str | None,
        limit: int,
    ) -> list[Item]:
        """Newest id first, continuing below ``before_id`` (a keyset cursor)."""
        where = self._where(dataset_id, sequence, filters)
        if before_id:
            where.append(_items.item_id < before_id)
        rows = self.connection.execute(
            sa.select(dataset_items).where(*where).order_by(_items.item_id.desc()).limit(limit)
        ).all()
        return [to_item(row) for row in rows]

    def stream_oldest_first(
        self, dataset_id: str, sequence: int | None, after_id: str | None, limit: int
    ) -> list[Item]:
        """Oldest id first (the order items were added in), continuing above ``after_id``."""
        where = self._where(dataset_id, sequence, [])
        if after_id:
            where.append(_items.item_id > after_id)
        rows = self.connection.execute(
            sa.select(dataset_items).where(*where).order_by(_items.item_id).limit(limit)
        ).all()
        return [to_item(row) for row in rows]

    def data_keys(
        self, dataset_id: str, sequence: int | None, oldest_first: bool = False
    ) -> list[str]:
        """Every key of the items' data, in the order a reader going newest first (or
        oldest first) meets them (keys first met in the same item: in the order the item
        holds them)."""
        keys, key, place = sql_dialect.object_keys(self.dialect, _items.data)
        met_at = sa.func.min(_items.item_id) if oldest_first else sa.func.max(_items.item_id).desc()
        rows = self.connection.execute(
            sa.select(key)
            .select_from(dataset_items)
            .join(keys, sa.true())
            .where(*self._where(dataset_id, sequence, []))
            .group_by(key)
            .order_by(met_at, sa.func.min(place))
        )
        return list(rows.scalars())

    def ids_matching(self, dataset_id: str, filters: list[Filter]) -> list[str]:
        return list(
            self.connection.execute(
                sa.select(_items.item_id).where(*self._where(dataset_id, None, filters))
            ).scalars()
        )

    def get_live(self, workspace: str, item_id: str) -> Item | None:
        row = self.connection.execute(
            sa.select(dataset_items)
            .join(datasets, datasets.c.id == _items.dataset_id)
            .where(
                datasets.c.workspace == workspace,
                _items.item_id == item_id,
                _items.valid_to.is_(None),
            )
            # One id may live in several datasets (a version carried forward keeps its
            # ids): the most recently written one answers.
            .order_by(_items.last_updated_at.desc(), _items.row_id.desc())
        ).first()
        return to_item(row) if row else None

    def datasets_of(self, workspace: str, item_ids: list[str]) -> list[str]:
        """The datasets (of a workspace) that hold any of the given live items."""
        return list(
            self.connection.execute(
                sa.select(_items.dataset_id)
                .distinct()
                .join(datasets, datasets.c.id == _items.dataset_id)
                .where(
                    datasets.c.workspace == workspace,
                    _items.item_id.in_(item_ids),
                    _items.valid_to.is_(None),
                )
            ).scalars()
        )

    def live_items(self, dataset_id: str, item_ids: list[str]) -> list[Item]:
        found: list[Item] = []
        for start in range(0, len(item_ids), 500):
            rows = self.connection.execute(
                sa.select(dataset_items).where(
                    _items.dataset_id == dataset_id,
                    _items.valid_to.is_(None),
                    _items.item_id.in_(item_ids[start : start + 500]),
                )
            ).all()
            found += [to_item(row) for row in rows]
        return found

    def live_rows(self, dataset_id: str, item_ids: Iterable[str]) -> dict[str, sa.Row]:
        """The live row of each given item: row id, first version, content hash, data."""
        found: dict[str, sa.Row] = {}
        for batch in sql_dialect.in_batches(self.dialect, list(item_ids)):
            rows = self.connection.execute(
                sa.select(
                    _items.row_id,
                    _items.item_id,
                    _items.valid_from,
                    _items.content_hash,
                    _items.created_at,
                    _items.created_by,
                    _items.data,
                ).where(
                    _items.dataset_id == dataset_id,
                    _items.valid_to.is_(None),
                    sql_dialect.one_of(self.dialect, _items.item_id, batch),
                )
            ).all()
            found.update({row.item_id: row for row in rows})
        return found

    def live_content_hashes(self, dataset_id: str) -> set[str]:
        return set(
            self.connection.execute(
                sa.select(_items.content_hash).where(
                    _items.dataset_id == dataset_id, visible_in(None)
                )
            ).scalars()
        )

    def existed_before(self, dataset_id: str, item_id: str, sequence: int) -> bool:
        """Whether an item was visible in the version before ``sequence``."""
        return (
            self.connection.execute(
                sa.select(sa.literal(1)).where(
                    _items.dataset_id == dataset_id,
                    _items.item_id == item_id,
                    visible_in(sequence - 1),
                )
            ).first()
            is not None
        )

    def snapshot(self, dataset_id: str, sequence: int | None) -> dict[str, tuple[int, str]]:
        """item id -> (row id, content hash) for every item of a version (or the draft)."""
        rows = self.connection.execute(
            sa.select(_items.item_id, _items.row_id, _items.content_hash).where(
                _items.dataset_id == dataset_id, visible_in(sequence)
            )
        ).all()
        return {row.item_id: (row.row_id, row.content_hash) for row in rows}

    # -- writes --------------------------------------------------------------------------

    # Every write below notes the items whose rows it changed: the compare view's runs
    # keep which row their pinned version shows (experiment_runs.py).

    def _note(self, changed: Iterable) -> None:
        """Note ``(dataset_id, item_id)`` pairs."""
        by_dataset: dict[str, set[str]] = {}
        for dataset_id, item_id in changed:
            by_dataset.setdefault(dataset_id, set()).add(item_id)
        for dataset_id, item_ids in by_dataset.items():
            experiment_rollups.note_dataset_items(self.connection, dataset_id, item_ids)

    def insert_rows(self, rows: list[dict]) -> None:
        sql_dialect.bulk_insert(self.connection, dataset_items, rows)
        self._note((row["dataset_id"], row["item_id"]) for row in rows)

    def close_rows(self, row_ids: list[int], sequence: int) -> None:
        for start in range(0, len(row_ids), 500):
            closed = self.connection.execute(
                dataset_items.update()
                .where(_items.row_id.in_(row_ids[start : start + 500]))
                .values(valid_to=sequence)
                .returning(_items.dataset_id, _items.item_id)
            )
            self._note(closed.all())

    def delete_rows(self, row_ids: list[int]) -> None:
        for start in range(0, len(row_ids), 500):
            deleted = self.connection.execute(
                dataset_items.delete()
                .where(_items.row_id.in_(row_ids[start : start + 500]))
                .returning(_items.dataset_id, _items.item_id)
            )
            self._note(deleted.all())

    def replace_rows(self, rows: list[dict]) -> None:
        """Rewrite rows created in the version being written (no history to keep)."""
        if not rows:
            return
        statement = (
            dataset_items.update()
            .where(_items.row_id == sa.bindparam("target_row_id"))
            .values({name: sa.bindparam(name) for name in rows[0] if name != "target_row_id"})
        )
        self.connection.execute(statement, rows)

    def copy_rows_into(self, row_ids: list[int], dataset_id: str, sequence: int) -> None:
        """Copy rows (of this or another dataset) as live rows of ``dataset_id`` from
        ``sequence`` on: restoring a version, or carrying one forward."""
        copied = [
            c
            for c in dataset_items.columns
            if c.name not in ("row_id", "dataset_id", "valid_from", "valid_to")
        ]
        for start in range(0, len(row_ids), 500):
            copies = self.connection.execute(
                dataset_items.insert()
                .from_select(
                    [c.name for c in copied] + ["dataset_id", "valid_from"],
                    sa.select(*copied, sa.literal(dataset_id), sa.literal(sequence)).where(
                        _items.row_id.in_(row_ids[start : start + 500])
                    ),
                )
                .returning(_items.dataset_id, _items.item_id)
            )
            self._note(copies.all())

    def refresh_statistics(self) -> None:
        """Let the query planner see how big the items table has become (a planner that
        still thinks it is empty stops using the live-row index for upserts). The columns
        that index and the version reads use are enough, and far cheaper than ``data``."""
        self.connection.exec_driver_sql(
            sql_dialect.analyze(
                self.dialect, dataset_items, ("dataset_id", "item_id", "valid_from", "valid_to")
            )
        )

    # -- columns -------------------------------------------------------------------------

    def adjust_columns(self, dataset_id: str, changes: Counter) -> None:
        """Add to (or take from) the count of live items having each (key, type). Runs
        under the dataset's lock, so every statement it spares shortens the queue of the
        dataset's writers."""
        deltas = [
            {"dataset_id": dataset_id, "name": name, "type": kind, "item_count": delta}
            for (name, kind), delta in sorted(changes.items())
            if delta
        ]
        if not deltas:
            return
        self.connection.execute(
            sql_dialect.insert_adding(self.dialect, dataset_columns, "item_count"), deltas
        )
        if all(delta["item_count"] > 0 for delta in deltas):
            return  # only a count that went down can have reached zero
        self.connection.execute(
            dataset_columns.delete().where(
                dataset_columns.c.dataset_id == dataset_id, dataset_columns.c.item_count <= 0
            )
        )

    def recount_columns(self, dataset_id: str) -> None:
        """Count the columns of the live items afresh (after a restore)."""
        self.connection.execute(
            dataset_columns.delete().where(dataset_columns.c.dataset_id == dataset_id)
        )
        tally: Counter = Counter()
        rows = self.connection.execute(
            sa.select(_items.data).where(_items.dataset_id == dataset_id, visible_in(None))
        )
        for (data,) in rows:
            tally.update(data_columns(data))
        self.adjust_columns(dataset_id, tally)

    def columns(self, dataset_id: str) -> list[Column]:
        rows = self.connection.execute(
            sa.select(dataset_columns.c.name, dataset_columns.c.type)
            .where(dataset_columns.c.dataset_id == dataset_id)
            .order_by(dataset_columns.c.name, dataset_columns.c.type)
        ).all()
        grouped: dict[str, list[str]] = {}
        for row in rows:
            grouped.setdefault(row.name, []).append(row.type)
        return [Column(name, tuple(types)) for name, types in grouped.items()]
