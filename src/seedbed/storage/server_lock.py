"""One server per SQLite file.

Two servers on one SQLite file each take the other's running chunks for orphans and
fight over the single write lock ("database is locked"). A server holds an exclusive
``flock`` on a file next to the database for as long as it lives; the kernel releases it
when the process ends, however it ends, so a killed server never leaves a stale lock.
"""

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from seedbed.domain.errors import SeedbedError

LOCK_SUFFIX = ".server.lock"


class ServerAlreadyRunning(SeedbedError):
    status_code = 409


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(os.path.expanduser(url.database))


def lock_path(database_url: str) -> Path | None:
    """The lock file for a SQLite file database; none for PostgreSQL or in-memory."""
    database = _sqlite_file(database_url)
    return None if database is None else database.with_name(database.name + LOCK_SUFFIX)


def hold_server_lock(database_url: str) -> int | None:
    """Take the database's server lock for the rest of this process (its file descriptor
    stays open until the process ends), or raise :class:`ServerAlreadyRunning`."""
    path = lock_path(database_url)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "?"
        os.close(descriptor)
        raise ServerAlreadyRunning(
            f"another seedbed server (pid {holder}) is already using {_sqlite_file(database_url)}"
            f"; stop it first, or give this one another --database-url"
        ) from None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, str(os.getpid()).encode(), 0)
    return descriptor
