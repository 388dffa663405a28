"""Migration 0009 on a database that already holds experiments: afterwards each one's
kept aggregates equal those computed from its traces, spans and scores, and writes
after the migration keep them so. On SQLite and on PostgreSQL."""

import random

from seedbed.storage import migrate
from seedbed.storage.database import Database
from tests.services.test_experiment_rollups import _assert_same, _kept_and_scratch, _World
from tests.storage.test_migrations import fresh_url  # noqa: F401  (a fixture)


def test_experiments_stored_before_the_migration_get_their_aggregates(fresh_url):  # noqa: F811
    database = Database(fresh_url)
    migrate.upgrade(database)
    world = _World(random.Random(5), database)
    for _ in range(40):
        with database.writing() as connection:
            world.step(connection)
    migrate.downgrade(database, "0008")  # as stored before rollups were kept
    migrate.upgrade(database)
    kept, scratch = _kept_and_scratch(database, world.experiments)
    assert any(aggregates.trace_count for aggregates in kept.values())
    for experiment_id in world.experiments:
        _assert_same(kept[experiment_id], scratch[experiment_id], "after the migration")
    for _ in range(20):
        with database.writing() as connection:
            world.step(connection)
    kept, scratch = _kept_and_scratch(database, world.experiments)
    for experiment_id in world.experiments:
        _assert_same(kept[experiment_id], scratch[experiment_id], "after later writes")
    database.dispose()
