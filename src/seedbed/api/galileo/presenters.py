"""Responses in Galileo's shapes (``DatasetDB``, ``DatasetContent``, ``JobProgress``, …)."""

import datetime as dt
from typing import Any

from seedbed.api.galileo.content import ContentPage
from seedbed.api.galileo.extension import ExtensionProgress
from seedbed.api.galileo.users import galileo_user
from seedbed.domain.datasets import Dataset
from seedbed.domain.items import Item


def timestamp(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=dt.UTC).isoformat()


def user_info(workspace: str, name: str) -> dict[str, Any]:
    user = galileo_user(workspace, name)
    return {"id": user.id, "email": user.email, "first_name": user.name, "last_name": ""}


def current_user(workspace: str, name: str, created_at: dt.datetime) -> dict[str, Any]:
    """Galileo's ``UserDB``; the workspace stands in for the organisation."""
    return {
        **user_info(workspace, name),
        "permissions": [],
        "auth_method": "email",
        "role": "user",
        "email_is_verified": True,
        "organization_id": galileo_user(workspace, "").id,  # the workspace's own id
        "organization_name": workspace,
        "created_at": timestamp(created_at),
        "updated_at": timestamp(created_at),
    }


def dataset(found: Dataset, column_names: list[str]) -> dict[str, Any]:
    return {
        "id": found.id,
        "permissions": [],
        "name": found.name,
        "created_at": timestamp(found.created_at),
        "updated_at": timestamp(found.last_updated_at),
        "project_count": 1 if found.project_id else 0,
        "num_rows": found.items_count,
        "column_names": column_names,
        "created_by_user": user_info(found.workspace, found.created_by),
        "current_version_index": found.latest_version_sequence,
        "draft": False,
    }


def datasets_page(
    found: list[dict[str, Any]], starting_token: int, limit: int, total: int
) -> dict[str, Any]:
    following = starting_token + len(found)
    return {
        "starting_token": starting_token,
        "limit": limit,
        "paginated": True,
        "next_starting_token": following if found and following < total else None,
        "datasets": found,
    }


def row(item: Item, index: int, column_names: list[str]) -> dict[str, Any]:
    # ``metadata`` may be null in Galileo's schema: seedbed does not keep the version a
    # row was first created in, and inventing one would mislead.
    return {
        "row_id": item.id,
        "index": index,
        "values": [item.data.get(name) for name in column_names],
        "values_dict": item.data,
        "metadata": None,
    }


def content(page: ContentPage) -> dict[str, Any]:
    return {
        "starting_token": page.starting_token,
        "limit": page.limit,
        "paginated": True,
        "next_starting_token": page.next_starting_token,
        "column_names": page.column_names,
        "warning_message": None,
        "rows": [
            row(item, page.starting_token + position, page.column_names)
            for position, item in enumerate(page.rows)
        ],
    }


def progress(found: ExtensionProgress) -> dict[str, Any]:
    return {
        "progress_message": found.message,
        "steps_completed": found.steps_completed,
        "steps_total": found.steps_total,
    }
