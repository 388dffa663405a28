"""Schema migrations, run from code: ``seedbed serve`` brings the database to the newest
schema before it answers, and tests start from an empty database."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from seedbed.storage.database import Database

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: held by whoever is migrating this PostgreSQL database.
_MIGRATION_LOCK = 0x5EEDBED


def alembic_config(database: Database, connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``. Processes starting together (a server and its
    workers, several replicas) migrate one after the other: the first does the work, the
    others find it done. SQLite's write lock (``BEGIN IMMEDIATE``) and a PostgreSQL
    advisory lock, both held until the migration commits, see to that."""
    with database.writing() as connection:
        if database.dialect == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        command.upgrade(alembic_config(database, connection), revision)


def downgrade(database: Database, revision: str) -> None:
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(database, connection), revision)
