"""Migration 0010 on a database that already holds experiments and versioned items:
afterwards the compare view, read from the runs the migration wrote, equals the
computation from the stored data, and writes after the migration keep it so. On SQLite
and on PostgreSQL."""

import random

from seedbed.storage import migrate
from seedbed.storage.database import Database
from tests.services.test_compare_runs import _assert_compare_view_as_computed, _VersionedWorld
from tests.storage.test_migrations import fresh_url  # noqa: F401  (a fixture)


def test_runs_stored_before_the_migration_are_filled_in(fresh_url):  # noqa: F811
    database = Database(fresh_url)
    migrate.upgrade(database)
    world = _VersionedWorld(random.Random(8), database)
    for _ in range(40):
        with database.writing() as connection:
            world.step(connection)
    migrate.downgrade(database, "0009")  # as stored before runs were kept
    migrate.upgrade(database)
    assert _assert_compare_view_as_computed(database, world, "after the migration")
    for _ in range(20):
        with database.writing() as connection:
            world.step(connection)
    _assert_compare_view_as_computed(database, world, "after later writes")
    database.dispose()
