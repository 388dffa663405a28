"""Who is asking: the workspace every read and write is scoped to, and the name recorded
as ``created_by`` / ``last_updated_by``."""

import datetime as dt
from dataclasses import dataclass

DEFAULT_WORKSPACE = "default"
LOCAL_USER = "admin"


@dataclass(frozen=True)
class Caller:
    workspace: str = DEFAULT_WORKSPACE
    user: str = LOCAL_USER


def utcnow() -> dt.datetime:
    """Naive UTC, as stored in both engines."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
