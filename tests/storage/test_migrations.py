"""Migrations build exactly the schema the code declares, from an empty database, on both
engines, and can be undone."""

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


def test_migrations_run_down_and_up_from_empty(database_url, engine_name, tmp_path, postgres_schema):
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = database_url.replace(postgres_schema, postgres_schema + "_fresh")
        admin = sa.create_engine(database_url)
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {postgres_schema}_fresh")
    fresh = Database(url)
    try:
        migrate.upgrade(fresh)
        assert {"datasets", "dataset_items", "dataset_versions"} <= set(sa.inspect(fresh.engine).get_table_names())
        migrate.downgrade(fresh, "base")
        assert set(sa.inspect(fresh.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(fresh)
    finally:
        fresh.dispose()
        if engine_name == "postgresql":
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {postgres_schema}_fresh CASCADE")
            admin.dispose()
