"""Migration 0006 on a database whose generated items still carry Opik's markers in their
data (as seedbed saved them before): afterwards the data is the user's fields exactly,
the provenance is in the tags, old versions read the same way, version names stay, and
saving the same content again is still no change. On SQLite and on PostgreSQL."""

import pytest

from seedbed.domain import ids
from seedbed.domain.items import ItemDraft
from seedbed.services import datasets, items, versions
from seedbed.services.context import Caller
from seedbed.storage import migrate
from seedbed.storage.database import Database
from tests.storage.test_migrations import fresh_url  # noqa: F401  (a fixture)

CALLER = Caller("default")
SEED = {"question": "Where is my order?", "answer": "In your email."}
SAVED_BEFORE = {
    "question": "Can I change my order?",
    "answer": "Within an hour, yes.",
    "_generated": True,
    "_generation_model": "openai/gpt-4o-mini",
}


@pytest.fixture
def old_database(fresh_url) -> Database:  # noqa: F811
    database = Database(fresh_url)
    migrate.upgrade(database, "0005")
    yield database
    database.dispose()


def _items(database: Database, version: str | None = None) -> list:
    with database.reading() as connection:
        dataset = datasets.require_dataset_by_name(connection, CALLER, "support")
        return list(items.export_items(connection, CALLER, dataset, version))


def test_markers_move_from_data_to_tags_in_every_version(old_database):
    with old_database.writing() as connection:
        dataset = datasets.create_dataset(connection, CALLER, "support")
        items.upsert_items(
            connection, CALLER, [ItemDraft(ids.new_id(), SEED)], dataset_id=dataset.id
        )
        generated = ItemDraft(ids.new_id(), dict(SAVED_BEFORE), tags=["generated"])
        items.upsert_items(connection, CALLER, [generated], dataset_id=dataset.id)
        before = [
            v.version_hash
            for v in versions.list_versions(connection, CALLER, dataset.id, 1, 10).content
        ]

    migrate.upgrade(old_database)

    clean = {key: SAVED_BEFORE[key] for key in ("question", "answer")}
    for version in (None, "v2"):
        by_id = {item.id: item for item in _items(old_database, version)}
        assert by_id[generated.id].data == clean
        assert by_id[generated.id].tags == ["generated", "model:openai/gpt-4o-mini"]
    with old_database.writing() as connection:
        dataset = datasets.require_dataset_by_name(connection, CALLER, "support")
        after = [
            v.version_hash
            for v in versions.list_versions(connection, CALLER, dataset.id, 1, 10).content
        ]
        assert set(items.data_columns_of(connection, CALLER, dataset)) == {"question", "answer"}
        # The same content saved again is no change: the stored hash is the new content's.
        same = ItemDraft(generated.id, clean, tags=["generated", "model:openai/gpt-4o-mini"])
        assert items.upsert_items(connection, CALLER, [same], dataset_id=dataset.id) is None
    assert after == before
