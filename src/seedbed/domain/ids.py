"""Identifiers: time-ordered UUIDs (version 7), as the Opik clients generate them.

Ordering by id is ordering by creation time, which is what "newest first" listings and
cursor paging (``id < last_retrieved_id``) rely on.
"""

import os
import threading
import time
import uuid
from collections.abc import Iterable

from seedbed.domain.errors import InvalidInput

_RANDOM_BITS = 74  # 12 bits after the version, 62 after the variant
_lock = threading.Lock()
_last_ms = 0
_last_random = 0


def _next_timestamp_and_random() -> tuple[int, int]:
    """Within one millisecond (or if the clock steps back) the random part counts up,
    as RFC 9562 allows, so ids made one after another always sort in that order."""
    global _last_ms, _last_random
    with _lock:
        unix_ms = time.time_ns() // 1_000_000
        if unix_ms > _last_ms:
            # Start low in the range so the counter has room to count up.
            _last_ms, _last_random = unix_ms, int.from_bytes(os.urandom(10), "big") >> 8
        else:
            _last_random += 1
            if _last_random >> _RANDOM_BITS:
                _last_ms, _last_random = _last_ms + 1, int.from_bytes(os.urandom(10), "big") >> 8
        return _last_ms, _last_random


def new_id() -> str:
    """A new UUIDv7 as canonical lowercase text, later than any made before it here."""
    unix_ms, random = _next_timestamp_and_random()
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (random >> 62) << 64
    value |= 0x2 << 62  # RFC 4122 variant
    value |= random & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def is_id(value: str) -> bool:
    """Whether ``value`` reads as a UUID (in any of the forms ``uuid.UUID`` accepts)."""
    try:
        uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def canonical_id(value: str, field: str = "id") -> str:
    """Validate a client-chosen id and return its canonical text form."""
    if not is_id(value):
        raise InvalidInput(f"{field} must be a UUID, got {value!r}")
    return str(uuid.UUID(str(value)))


def canonical_ids(values: Iterable[str] | None, field: str) -> list[str] | None:
    """Each of ``values`` in canonical form, once each, in order; ``None`` stays ``None``."""
    if values is None:
        return None
    return list(dict.fromkeys(canonical_id(value, f"each of {field}") for value in values))


_HALF = 1 << 63


def as_integers(value: str) -> tuple[int, int]:
    """An id as two signed 64-bit integers, high half first, that order as the id's
    canonical text does: databases group and compare two integers much faster than 36
    characters of text, and the pair gives the id back exactly (``from_integers``)."""
    number = uuid.UUID(value).int
    return (number >> 64) - _HALF, (number & ((1 << 64) - 1)) - _HALF


def from_integers(high: int, low: int) -> str:
    return str(uuid.UUID(int=((high + _HALF) << 64) | (low + _HALF)))
