"""Projects group datasets (and, in Opik, traces) within a workspace."""

import datetime as dt
from dataclasses import dataclass

# Opik clients log to this project unless told otherwise; like Opik, every workspace has it.
DEFAULT_PROJECT = "Default Project"


@dataclass
class Project:
    id: str
    workspace: str
    name: str
    description: str | None
    visibility: str
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str
