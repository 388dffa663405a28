"""Migrations build exactly the schema the code declares, from an empty database, on both
engines, and can be undone."""

import multiprocessing
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from seedbed.storage import migrate
from seedbed.storage.database import Database
from seedbed.storage.tables import metadata


def test_migrated_schema_matches_the_declared_tables(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


@pytest.fixture
def fresh_url(database_url, engine_name, tmp_path, postgres_schema) -> Iterator[str]:
    """An empty database on the engine under test."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin = sa.create_engine(database_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {postgres_schema}_fresh")
    yield database_url.replace(postgres_schema, postgres_schema + "_fresh")
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {postgres_schema}_fresh CASCADE")
    admin.dispose()


def test_migrations_run_down_and_up_from_empty(fresh_url):
    fresh = Database(fresh_url)
    try:
        migrate.upgrade(fresh)
        assert {"datasets", "dataset_items", "dataset_versions"} <= set(
            sa.inspect(fresh.engine).get_table_names()
        )
        migrate.downgrade(fresh, "base")
        assert set(sa.inspect(fresh.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(fresh)
    finally:
        fresh.dispose()


def _upgrade_when_all_are_ready(url: str, ready) -> None:
    database = Database(url)
    ready.wait()
    migrate.upgrade(database)
    database.dispose()


def test_processes_starting_together_on_an_empty_database_all_come_up(fresh_url):
    """A server and its workers, or several replicas, started at once: each migrates
    before it serves, and none fails because another is migrating."""
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(4)
    processes = [
        spawn.Process(target=_upgrade_when_all_are_ready, args=(fresh_url, ready)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)

    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    fresh = Database(fresh_url)
    try:
        with fresh.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        fresh.dispose()
