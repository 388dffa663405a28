"""Schema migrations, run from code: ``seedbed serve`` brings the database to the newest
schema before it answers, and tests start from an empty database."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from seedbed.storage.database import Database

_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database: Database, connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    with database.engine.begin() as connection:
        command.upgrade(alembic_config(database, connection), revision)


def downgrade(database: Database, revision: str) -> None:
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(database, connection), revision)
