"""Domain values in the JSON shapes Opik's clients read. Absent values are left out,
as Opik does."""

import datetime as dt
from collections.abc import Sized
from typing import Any

from seedbed.domain.exports import ExportJob
from seedbed.domain.items import ITEM_SORTABLE, Column, Item, truncate_value
from seedbed.domain.projects import Project
from seedbed.domain.versions import DatasetVersion
from seedbed.services.datasets import DatasetView
from seedbed.services.versions import VersionDiff


def timestamp(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds") + "Z" if moment else None


def compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def unless_empty(values: Sized | None) -> Any:
    """A collection Opik leaves out when it holds nothing (its clients then read ``None``,
    not ``[]``): an experiment's or a trace's tags, feedback scores, providers, usage..."""
    return values if values else None


def audit(found: Any) -> dict[str, Any]:
    """Who made a resource and who last changed it, and when."""
    return {
        "created_at": timestamp(found.created_at),
        "created_by": found.created_by,
        "last_updated_at": timestamp(found.last_updated_at),
        "last_updated_by": found.last_updated_by,
    }


def version_summary(version: DatasetVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return compact(
        {
            "id": version.id,
            "version_hash": version.version_hash,
            "version_name": version.name,
            "change_description": version.change_description,
            "tags": version.tags,
        }
    )


def dataset(view: DatasetView) -> dict[str, Any]:
    found = view.dataset
    return compact(
        {
            "id": found.id,
            "name": found.name,
            "description": found.description,
            "project_id": found.project_id,
            "type": found.type,
            "visibility": found.visibility,
            "tags": found.tags,
            **audit(found),
            "experiment_count": view.experiments.count if view.experiments else 0,
            "most_recent_experiment_at": timestamp(view.experiments.last_created_at)
            if view.experiments
            else None,
            "last_created_experiment_at": timestamp(view.experiments.last_created_at)
            if view.experiments
            else None,
            "dataset_items_count": found.items_count,
            "optimization_count": 0,
            "status": "completed",
            "latest_version": version_summary(view.latest_version),
        }
    )


def item(found: Item, truncate: bool = False) -> dict[str, Any]:
    return compact(
        {
            "id": found.id,
            "dataset_item_id": found.id,
            "dataset_id": found.dataset_id,
            "trace_id": found.trace_id,
            "span_id": found.span_id,
            "source": found.source,
            "data": truncate_value(found.data) if truncate else found.data,
            "tags": found.tags,
            "description": found.description,
            "evaluators": found.evaluators,
            "execution_policy": found.execution_policy,
            **audit(found),
        }
    )


def column(found: Column) -> dict[str, Any]:
    return {
        "name": found.name,
        "types": list(found.types),
        "filter_field_prefix": "data",
        "filterField": f"data.{found.name}",
    }


def item_sortable_by(columns: list[Column]) -> list[str]:
    return list(ITEM_SORTABLE) + [f"data.{found.name}" for found in columns]


def version(found: DatasetVersion) -> dict[str, Any]:
    return compact(
        {
            "id": found.id,
            "dataset_id": found.dataset_id,
            "version_hash": found.version_hash,
            "tags": found.tags,
            "is_latest": found.is_latest,
            "version_name": found.name,
            "items_total": found.items_total,
            "items_added": found.changes.added,
            "items_modified": found.changes.modified,
            "items_deleted": found.changes.deleted,
            "change_description": found.change_description,
            "metadata": found.metadata,
            "evaluators": found.evaluators,
            "execution_policy": found.execution_policy,
            **audit(found),
        }
    )


def diff(found: VersionDiff) -> dict[str, Any]:
    return compact(
        {
            "from_version": found.from_version,
            "to_version": found.to_version,
            "statistics": {
                "itemsAdded": found.changes.added,
                "itemsModified": found.changes.modified,
                "itemsDeleted": found.changes.deleted,
                "itemsUnchanged": found.unchanged,
            },
        }
    )


def project(found: Project) -> dict[str, Any]:
    return compact(
        {
            "id": found.id,
            "name": found.name,
            "description": found.description,
            "visibility": found.visibility,
            **audit(found),
        }
    )


def export_job(found: ExportJob) -> dict[str, Any]:
    return compact(
        {
            "id": found.id,
            "dataset_id": found.dataset_id,
            "dataset_name": found.dataset_name,
            "status": found.status,
            "file_path": found.file_name,
            **audit(found),
            "viewed_at": timestamp(found.viewed_at),
        }
    )
