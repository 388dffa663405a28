"""Opik routes for dataset versions."""

from fastapi import APIRouter

from seedbed.api.dependencies import CallerDep, Reading, Writing
from seedbed.api.opik import presenters
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.schemas import (
    DatasetItemChanges,
    DatasetVersionRestore,
    DatasetVersionRetrieve,
    DatasetVersionTag,
    DatasetVersionUpdate,
    text_or_none,
)
from seedbed.services import item_changes, versions

router = APIRouter(tags=["Datasets"])


@router.get("/datasets/{dataset_id}/versions")
def list_versions(
    dataset_id: str,
    connection: Reading,
    caller: CallerDep,
    page: int = PageQuery,
    size: int = SizeQuery,
) -> dict:
    found = versions.list_versions(connection, caller, dataset_id, page, size)
    return {
        "content": [presenters.version(version) for version in found.content],
        "page": found.page,
        "size": len(found.content),
        "total": found.total,
    }


@router.post("/datasets/{dataset_id}/items/changes", status_code=201)
def apply_changes(
    dataset_id: str,
    body: DatasetItemChanges,
    connection: Writing,
    caller: CallerDep,
    override: bool = False,
) -> dict:
    changes = item_changes.VersionChanges(
        base_version=text_or_none(body.base_version),
        added=[item.as_draft() for item in body.added_items],
        edited=[item.model_dump(mode="json", exclude_unset=True) for item in body.edited_items],
        deleted=[str(item_id) for item_id in body.deleted_ids],
        change_description=body.change_description,
        evaluators=body.evaluators,
        execution_policy=body.execution_policy,
        clear_execution_policy=body.clear_execution_policy,
        tags=body.tags,
        metadata=body.metadata,
        copy_from_dataset_id=text_or_none(body.copy_from_dataset_id),
        copy_from_version_id=text_or_none(body.copy_from_version_id),
    )
    return presenters.version(
        item_changes.apply_changes(connection, caller, dataset_id, changes, override)
    )


@router.post("/datasets/{dataset_id}/versions/retrieve")
def retrieve_version(
    dataset_id: str, body: DatasetVersionRetrieve, connection: Reading, caller: CallerDep
) -> dict:
    return presenters.version(
        versions.retrieve_version(connection, caller, dataset_id, body.version_name)
    )


@router.post("/datasets/{dataset_id}/versions/restore")
def restore_version(
    dataset_id: str, body: DatasetVersionRestore, connection: Writing, caller: CallerDep
) -> dict:
    return presenters.version(
        versions.restore_version(connection, caller, dataset_id, body.version_ref)
    )


@router.get("/datasets/{dataset_id}/versions/diff")
def diff_versions(dataset_id: str, connection: Reading, caller: CallerDep) -> dict:
    return presenters.diff(versions.diff_with_draft(connection, caller, dataset_id))


@router.post("/datasets/{dataset_id}/versions/hash/{version_hash}/tags", status_code=204)
def tag_version(
    dataset_id: str,
    version_hash: str,
    body: DatasetVersionTag,
    connection: Writing,
    caller: CallerDep,
) -> None:
    versions.tag_version(connection, caller, dataset_id, version_hash, body.tag)


@router.delete("/datasets/{dataset_id}/versions/{version_hash}/tags/{tag}", status_code=204)
def untag_version(
    dataset_id: str, version_hash: str, tag: str, connection: Writing, caller: CallerDep
) -> None:
    versions.untag_version(connection, caller, dataset_id, version_hash, tag)


@router.patch("/datasets/{dataset_id}/versions/hash/{version_hash}")
def update_version(
    dataset_id: str,
    version_hash: str,
    body: DatasetVersionUpdate,
    connection: Writing,
    caller: CallerDep,
) -> dict:
    updated = versions.update_version(
        connection, caller, dataset_id, version_hash, body.change_description, body.tags_to_add
    )
    return presenters.version(updated)
