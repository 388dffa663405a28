"""Opik routes for dataset versions."""

from fastapi import APIRouter

from seedbed.api.dependencies import CallerDep, Reading, Writing
from seedbed.api.opik import presenters
from seedbed.api.opik.datasets import PageQuery, SizeQuery
from seedbed.api.opik.schemas import (
    DatasetVersionRestore,
    DatasetVersionRetrieve,
    DatasetVersionTag,
    DatasetVersionUpdate,
)
from seedbed.services import versions

router = APIRouter(tags=["Datasets"])


@router.get("/datasets/{dataset_id}/versions")
def list_versions(
    dataset_id: str, connection: Reading, caller: CallerDep, page: int = PageQuery, size: int = SizeQuery
) -> dict:
    found = versions.list_versions(connection, caller, dataset_id, page, size)
    return {
        "content": [presenters.version(version) for version in found.content],
        "page": found.page,
        "size": len(found.content),
        "total": found.total,
    }


@router.post("/datasets/{dataset_id}/versions/retrieve")
def retrieve_version(dataset_id: str, body: DatasetVersionRetrieve, connection: Reading, caller: CallerDep) -> dict:
    return presenters.version(versions.retrieve_version(connection, caller, dataset_id, body.version_name))


@router.post("/datasets/{dataset_id}/versions/restore")
def restore_version(dataset_id: str, body: DatasetVersionRestore, connection: Writing, caller: CallerDep) -> dict:
    return presenters.version(versions.restore_version(connection, caller, dataset_id, body.version_ref))


@router.get("/datasets/{dataset_id}/versions/diff")
def diff_versions(dataset_id: str, connection: Reading, caller: CallerDep) -> dict:
    return presenters.diff(versions.diff_with_draft(connection, caller, dataset_id))


@router.post("/datasets/{dataset_id}/versions/hash/{version_hash}/tags", status_code=204)
def tag_version(
    dataset_id: str, version_hash: str, body: DatasetVersionTag, connection: Writing, caller: CallerDep
) -> None:
    versions.tag_version(connection, caller, dataset_id, version_hash, body.tag)


@router.delete("/datasets/{dataset_id}/versions/{version_hash}/tags/{tag}", status_code=204)
def untag_version(dataset_id: str, version_hash: str, tag: str, connection: Writing, caller: CallerDep) -> None:
    versions.untag_version(connection, caller, dataset_id, version_hash, tag)


@router.patch("/datasets/{dataset_id}/versions/hash/{version_hash}")
def update_version(
    dataset_id: str, version_hash: str, body: DatasetVersionUpdate, connection: Writing, caller: CallerDep
) -> dict:
    updated = versions.update_version(
        connection, caller, dataset_id, version_hash, body.change_description, body.tags_to_add
    )
    return presenters.version(updated)
