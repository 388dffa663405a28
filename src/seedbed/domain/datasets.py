"""Datasets: named, versioned collections of items within a workspace."""

import datetime as dt
from dataclasses import dataclass, field

from seedbed.domain.filters import FieldKind

DATASET_TYPES = ("dataset", "evaluation_suite")
VISIBILITIES = ("private", "public")

DATASET_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "name": FieldKind.STRING,
    "description": FieldKind.STRING,
    "tags": FieldKind.LIST,
    "type": FieldKind.STRING,
    "created_at": FieldKind.DATE_TIME,
    "last_updated_at": FieldKind.DATE_TIME,
    "created_by": FieldKind.STRING,
    "last_updated_by": FieldKind.STRING,
    "dataset_items_count": FieldKind.NUMBER,
}
DATASET_SORTABLE = (
    "id",
    "name",
    "description",
    "type",
    "created_at",
    "last_updated_at",
    "created_by",
    "last_updated_by",
    "dataset_items_count",
)


@dataclass
class Dataset:
    id: str
    workspace: str
    name: str
    description: str | None
    type: str
    visibility: str
    tags: list[str]
    project_id: str | None
    items_count: int
    latest_version_sequence: int
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str
    extra: dict = field(default_factory=dict)
