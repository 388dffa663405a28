"""Migration 0008 on a database whose experiments kept their prompt links as a JSON list
(as seedbed stored them before): afterwards each experiment shows the same links, in
the order the client sent them, and going back restores the list. On SQLite and on
PostgreSQL."""

import datetime as dt

import pytest
import sqlalchemy as sa

from seedbed.domain import ids
from seedbed.domain.prompts import PromptVersionLink
from seedbed.services import prompts
from seedbed.storage import migrate
from seedbed.storage.database import Database
from tests.storage.test_migrations import fresh_url  # noqa: F401  (a fixture)

_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
_experiments_before = sa.table(
    "experiments",
    *(
        sa.column(name)
        for name in (
            "id",
            "workspace",
            "dataset_id",
            "dataset_name",
            "dataset_version_sequence",
            "name",
            "type",
            "evaluation_method",
            "status",
            "created_at",
            "created_by",
            "last_updated_at",
            "last_updated_by",
        )
    ),
    sa.column("tags", _JSON),
    sa.column("prompt_versions", _JSON),
)


@pytest.fixture
def old_database(fresh_url) -> Database:  # noqa: F811
    database = Database(fresh_url)
    migrate.upgrade(database, "0007")
    yield database
    database.dispose()


def _experiment(links) -> dict:
    now = dt.datetime(2026, 12, 1, 12, 0)
    return {
        "id": ids.new_id(),
        "workspace": "default",
        "dataset_id": ids.new_id(),
        "dataset_name": "qa",
        "dataset_version_sequence": 1,
        "name": "run",
        "tags": [],
        "type": "regular",
        "evaluation_method": "dataset",
        "status": "completed",
        "created_at": now,
        "created_by": "admin",
        "last_updated_at": now,
        "last_updated_by": "admin",
        "prompt_versions": links,
    }


def test_json_links_become_rows_and_come_back_on_downgrade(old_database):
    first, second = ids.new_id(), ids.new_id()
    linked = _experiment([{"id": second}, {"id": first}, {"id": second}, {"id": "not an id"}])
    unlinked = _experiment(None)
    with old_database.writing() as connection:
        connection.execute(_experiments_before.insert(), [linked, unlinked])

    migrate.upgrade(old_database)

    with old_database.reading() as connection:
        links = prompts.experiment_links(connection, [linked["id"], unlinked["id"]])
    assert links == {linked["id"]: [PromptVersionLink(second), PromptVersionLink(first)]}

    migrate.downgrade(old_database, "0007")

    with old_database.reading() as connection:
        kept = dict(
            connection.execute(
                sa.select(_experiments_before.c.id, _experiments_before.c.prompt_versions)
            ).all()
        )
    assert kept == {linked["id"]: [{"id": second}, {"id": first}], unlinked["id"]: None}
