"""Many rows at once (``dialect.bulk_insert``): stored exactly as an ordinary INSERT
stores them, on both engines."""

import datetime as dt

import pytest
import sqlalchemy as sa

from seedbed.domain.errors import InvalidInput
from seedbed.storage import dialect
from seedbed.storage.tables import dataset_items, datasets

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5)


def item_rows(dataset_id: str) -> list[dict]:
    values = [
        ({"q": 'ü 👍 " \\ \n', "n": [1.5, 1e16, 0.1, 10**20]}, [], None, None, None),
        ({"z": {"y": None, "x": True}, "a": False}, ["t", "ü"], "a note", [{"k": 1}], {"p": 1}),
        ({}, [], "", [], {}),
    ]
    return [
        {
            "dataset_id": dataset_id,
            "item_id": f"00000000-0000-7000-8000-00000000000{place}",
            "valid_from": 1,
            "valid_to": None if place else 2,
            "source": "sdk",
            "trace_id": None if place else "00000000-0000-7000-8000-0000000000aa",
            "span_id": None,
            "data": data,
            "tags": tags,
            "description": description,
            "evaluators": evaluators,
            "execution_policy": policy,
            "content_hash": "0" * 64,
            "created_at": WHEN if place else WHEN.replace(microsecond=123456),
            "created_by": "ü",
            "last_updated_at": WHEN,
            "last_updated_by": "me",
        }
        for place, (data, tags, description, evaluators, policy) in enumerate(values)
    ]


def stored(connection, dataset_id: str) -> tuple[list, list]:
    """The rows as read back, and every column's stored text."""
    where = dataset_items.c.dataset_id == dataset_id
    order = dataset_items.c.row_id
    columns = [c for c in dataset_items.c if c.name not in ("row_id", "dataset_id")]
    read = connection.execute(sa.select(*columns).where(where).order_by(order)).all()
    text = connection.execute(
        sa.select(*(sa.cast(c, sa.Text) for c in columns)).where(where).order_by(order)
    ).all()
    return [tuple(row) for row in read], [tuple(row) for row in text]


def add_dataset(connection, dataset_id: str) -> None:
    connection.execute(
        datasets.insert().values(
            id=dataset_id,
            workspace="default",
            name=dataset_id,
            type="dataset",
            visibility="private",
            tags=[],
            items_count=0,
            latest_version_sequence=0,
            created_at=WHEN,
            created_by="me",
            last_updated_at=WHEN,
            last_updated_by="me",
        )
    )


def test_rows_are_stored_as_an_ordinary_insert_stores_them(database):
    with database.writing() as connection:
        add_dataset(connection, "ordinary")
        add_dataset(connection, "bulk")
        connection.execute(dataset_items.insert(), item_rows("ordinary"))
        dialect.bulk_insert(connection, dataset_items, item_rows("bulk"))

        assert stored(connection, "bulk") == stored(connection, "ordinary")


# SQLite does not hold text to a column's length.
@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_a_value_too_long_for_its_column_is_refused_not_cut(database):
    rows = item_rows("bulk")
    rows[1]["created_by"] = "x" * 300
    with pytest.raises(InvalidInput), database.writing() as connection:
        add_dataset(connection, "bulk")
        dialect.bulk_insert(connection, dataset_items, rows)
