"""PostgreSQL transaction-scoped advisory locks on names (trace ids, dataset ids), hashed
into a bounded number of keys: PostgreSQL's lock table is shared and small, so a
transaction holds at most ``BUCKETS`` keys of a space however many names it locks, and
names sharing a key only make their writers wait for each other. SQLite has one writer
at a time and takes none."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

BUCKETS = 64


@dataclass(frozen=True)
class LockSpace:
    """``BUCKETS`` keys from ``base`` on, a range no other lock of seedbed uses."""

    base: int

    def key(self, name: str) -> int:
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        return self.base + int.from_bytes(digest, "big") % BUCKETS

    def keys(self, names: Iterable[str]) -> set[int]:
        return {self.key(name) for name in names}

    def every_key(self) -> set[int]:
        return {self.base + bucket for bucket in range(BUCKETS)}


def lock(connection: Connection, keys: set[int]) -> None:
    """Take the keys in order (a transaction holds each until it ends, and takes a held
    one again at once)."""
    if connection.dialect.name != "postgresql" or not keys:
        return
    connection.execute(
        sa.text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key"),
        {"keys": sorted(keys)},
    ).all()
