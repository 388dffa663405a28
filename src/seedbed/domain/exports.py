"""Dataset exports (Opik's export jobs).

An export pins the dataset's version at the moment it is asked for; the CSV is written
from that version when it is downloaded. So an export is ready at once, stores no file,
and always holds exactly the items the dataset had when it was requested.
"""

import datetime as dt
from dataclasses import dataclass

COMPLETED = "COMPLETED"


@dataclass
class ExportJob:
    id: str
    workspace: str
    dataset_id: str
    dataset_name: str
    version_sequence: int  # 0: the dataset had no version (no items) yet
    status: str
    viewed_at: dt.datetime | None
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str

    @property
    def file_name(self) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in self.dataset_name)
        return f"{safe or 'dataset'}-v{self.version_sequence}.csv"
