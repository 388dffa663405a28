"""Engines and units of work for SQLite and PostgreSQL.

SQLite runs in WAL mode so readers never wait for the writer. Write transactions start
with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes can fail with
"database is locked" when another writer got in between, whatever the busy timeout;
taking the write lock up front makes concurrent writers queue instead.
"""

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from seedbed.domain.errors import Conflict, InvalidInput
from seedbed.storage.repositories import experiment_rollups

_WRITE = "seedbed_write"
_WAL_SWITCH_SECONDS = 60

# Connections one process keeps, on either engine. A request can hold two at once (its
# unit of work, and the check of its API key), and in-process jobs and event streams
# need some of their own; the server lets at most CONCURRENT_REQUESTS requests work at
# once (api/concurrency.py), so requests can never wait on each other for connections.
POOL_CONNECTIONS = 60
_RESERVED_FOR_JOBS = 12
CONCURRENT_REQUESTS = (POOL_CONNECTIONS - _RESERVED_FOR_JOBS) // 2
# PostgreSQL keeps this many open between requests; the rest open when needed.
_POSTGRES_IDLE_CONNECTIONS = 20


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (``postgresql://``, ``postgres://``) and pick our driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        return _create_sqlite_engine(url)
    return sa.create_engine(
        url,
        pool_size=_POSTGRES_IDLE_CONNECTIONS,
        max_overflow=POOL_CONNECTIONS - _POSTGRES_IDLE_CONNECTIONS,
        pool_pre_ping=True,
    )


def _create_sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(os.path.expanduser(database)).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 60},
        **({"pool_size": POOL_CONNECTIONS, "max_overflow": 0} if _is_file(url) else {}),
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=60000")
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _is_file(url: str) -> bool:
    return make_url(url).database not in (None, "", ":memory:")


def _use_wal(cursor) -> None:
    """Switch the file to WAL (it stays so). Processes opening a new file at the same
    moment race to switch it, and SQLite refuses the losers at once ("database is
    locked", no busy wait): they try again until one of them has switched it."""
    deadline = time.monotonic() + _WAL_SWITCH_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextlib.contextmanager
def _refused_values_are_bad_input() -> Iterator[None]:
    """A value the engine cannot hold (text longer than its column, a NUL character on
    PostgreSQL) is a mistake in the request, not in the server: a 400, and the unit of
    work rolls back."""
    try:
        yield
    except sa.exc.DataError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else "invalid value"
        raise InvalidInput(f"a value in the request cannot be stored: {reason}") from None


@contextlib.contextmanager
def duplicate_is_conflict(connection: Connection, message: str) -> Iterator[None]:
    """Run inserts in a savepoint; a unique-key clash (a concurrent create that won the
    race) becomes a Conflict, and the rest of the unit of work goes on."""
    try:
        with connection.begin_nested():
            yield
    except sa.exc.IntegrityError:
        raise Conflict(message) from None


class Database:
    """One engine and the two kinds of unit of work the services run in."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_engine(self.url)
        # SQLite has one writer at a time, and writers waiting out its busy timeout poll
        # with growing sleeps: under many writers an unlucky one waits for seconds. This
        # process's writers queue on a lock instead (a Lock, not an RLock: a request's unit
        # of work may end in another thread than the one it began in).
        self._one_writer = threading.Lock() if is_sqlite(self.url) else contextlib.nullcontext()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A transaction that may write; committed when the block ends without error."""
        with self._one_writer, _refused_values_are_bad_input(), self.engine.connect() as connection:
            connection = connection.execution_options(**{_WRITE: True})
            experiment_rollups.forget(connection)
            try:
                with connection.begin():
                    yield connection
                    experiment_rollups.settle(connection)
            finally:
                experiment_rollups.forget(connection)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only snapshot; rolled back at the end."""
        with _refused_values_are_bad_input(), self.engine.connect() as connection:
            with connection.begin() as transaction:
                yield connection
                transaction.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
