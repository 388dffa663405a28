"""Dataset exports: ask for one, list them, download the CSV (see ``domain.exports``)."""

from collections.abc import Iterator

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import NotFound
from seedbed.domain.exports import COMPLETED, ExportJob
from seedbed.domain.imports import csv_text
from seedbed.domain.versions import version_name
from seedbed.services.context import Caller, utcnow
from seedbed.services.datasets import require_dataset
from seedbed.services.items import data_columns_of, export_pages
from seedbed.storage.database import Database
from seedbed.storage.repositories.exports import ExportJobRepository

RECENT_JOBS = 100


def start_export(connection: Connection, caller: Caller, dataset_id: str) -> ExportJob:
    dataset = require_dataset(connection, caller, dataset_id)
    now = utcnow()
    job = ExportJob(
        id=ids.new_id(),
        workspace=caller.workspace,
        dataset_id=dataset.id,
        dataset_name=dataset.name,
        version_sequence=dataset.latest_version_sequence,
        status=COMPLETED,
        viewed_at=None,
        created_at=now,
        created_by=caller.user,
        last_updated_at=now,
        last_updated_by=caller.user,
    )
    ExportJobRepository(connection).insert(job)
    return job


def get_export(connection: Connection, caller: Caller, job_id: str) -> ExportJob:
    job = ExportJobRepository(connection).get(
        caller.workspace, ids.canonical_id(job_id, "export job id")
    )
    if job is None:
        raise NotFound("Export job not found")
    return job


def list_exports(connection: Connection, caller: Caller) -> list[ExportJob]:
    return ExportJobRepository(connection).all(caller.workspace, RECENT_JOBS)


def mark_viewed(connection: Connection, caller: Caller, job_id: str) -> None:
    job = get_export(connection, caller, job_id)
    ExportJobRepository(connection).mark_viewed(job.id, utcnow(), caller.user)


def export_csv(connection: Connection, caller: Caller, job: ExportJob) -> Iterator[str]:
    """The export's file, the items' data as CSV as of the pinned version, a page of
    rows at a time (the header first): however large the dataset, the caller holds one
    page."""
    if job.version_sequence == 0:
        return
    dataset = require_dataset(connection, caller, job.dataset_id)
    version = version_name(job.version_sequence)
    columns = data_columns_of(connection, caller, dataset, version)
    yield csv_text(columns, [])
    for page in export_pages(connection, caller, dataset, version):
        yield csv_text(columns, (item.data for item in page), header=False)


def stream_csv(database: Database, caller: Caller, job: ExportJob) -> Iterator[str]:
    """:func:`export_csv` in its own transaction, for a download that goes on after the
    request's transaction ended. The job pins a version, so what it reads does not move
    meanwhile."""
    with database.reading() as connection:
        yield from export_csv(connection, caller, job)
