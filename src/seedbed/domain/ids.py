"""Identifiers: time-ordered UUIDs (version 7), as the Opik clients generate them.

Ordering by id is ordering by creation time, which is what "newest first" listings and
cursor paging (``id < last_retrieved_id``) rely on.
"""

import os
import time
import uuid

from seedbed.domain.errors import InvalidInput


def new_id() -> str:
    """A new UUIDv7 as canonical lowercase text."""
    unix_ms = time.time_ns() // 1_000_000
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= int.from_bytes(os.urandom(10), "big") & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def canonical_id(value: str, field: str = "id") -> str:
    """Validate a client-chosen id and return its canonical text form."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(f"{field} must be a UUID, got {value!r}") from None
