"""``seedbed jobs``: list, watch, report on and cancel generation jobs."""

from typing import TYPE_CHECKING, Annotated

import typer

from seedbed.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    Output,
    QuietOption,
    WorkspaceOption,
    command_group,
    errors,
    fail,
    money,
    open_database,
    print_records,
)

if TYPE_CHECKING:
    from seedbed.domain.jobs import GenerationJob
    from seedbed.services.context import Caller

app = command_group("List, watch, report on and cancel generation jobs.")

JobIdArgument = Annotated[
    str, typer.Argument(help="The job's id.", metavar="JOB_ID", show_default=False)
]


@app.command("list")
def list_jobs(
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """The workspace's generation jobs, newest first."""
    from seedbed.services import jobs
    from seedbed.services.context import Caller

    database = open_database(database_url)
    with database.reading() as connection:
        found, _ = jobs.list_jobs(connection, Caller(workspace), 1, 1000)
    rows = [
        [
            job.id,
            job.status,
            f"{job.accepted}/{job.requested}",
            job.spec.get("model", ""),
            job.created_at.strftime("%Y-%m-%d %H:%M"),
        ]
        for job in found
    ]
    print_records(Output(as_json=as_json), ["id", "status", "samples", "model", "created"], rows)


@app.command("watch")
def watch(
    job_id: JobIdArgument,
    interval: Annotated[float, typer.Option(help="Seconds between updates.")] = 0.5,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Follow a job until it ends.

    A live progress bar; the exit code is 0 only if the job completed."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.domain.jobs import COMPLETED
    from seedbed.services.context import Caller

    out = Output(quiet, as_json)
    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        job = _follow(database, caller, job_id, interval, out)
        target = _target_name(database, caller, job)
    except SeedbedError as error:
        fail(error)
        return
    out.result(
        {
            "id": job.id,
            "status": job.status,
            "accepted": job.accepted,
            "requested": job.requested,
            "dataset": target,
            "version": job.written_version,
            "detail": job.detail,
        }
    )
    if job.status != COMPLETED:
        errors.print(f"{job.status}: {job.detail or ''}", markup=False, highlight=False)
        raise typer.Exit(code=1)
    into = f" into dataset '{target}' ({job.written_version})" if job.written_version else ""
    out.note(f"completed: {job.accepted} samples{into}")


def _follow(database, caller, job_id: str, interval: float, out: Output) -> "GenerationJob":
    import time

    job = _read(database, caller, job_id)
    if out.quiet:
        while not job.finished:
            time.sleep(interval)
            job = _read(database, caller, job_id)
        return job
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]{task.fields[status]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[account]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=errors.get()) as progress:
        task = progress.add_task("job", total=job.requested, status=job.status, account="")
        while True:
            progress.update(task, completed=job.accepted, status=job.status, account=account(job))
            if job.finished:
                return job
            time.sleep(interval)
            job = _read(database, caller, job_id)


def _target_name(database, caller: "Caller", job: "GenerationJob") -> str | None:
    """The name of the dataset the job wrote into, as the user knows it."""
    if job.target_dataset_name or not job.target_dataset_id:
        return job.target_dataset_name
    from seedbed.domain.errors import NotFound
    from seedbed.services import datasets

    with database.reading() as connection:
        try:
            return datasets.require_dataset(connection, caller, job.target_dataset_id).name
        except NotFound:  # deleted since
            return job.target_dataset_id


@app.command("report")
def report(
    job_id: JobIdArgument,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """The quality report of a job's samples.

    Refusals by rule, diversity beside the seeds, nearest-seed similarity, label and axis
    coverage, critic scores, cost and time."""
    from seedbed.cli.quality_report import render_report
    from seedbed.domain.errors import NotFound, SeedbedError
    from seedbed.services import jobs
    from seedbed.services.context import Caller

    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        with database.reading() as connection:
            try:
                found = jobs.job_quality_report(connection, caller, job_id)
            except NotFound:
                raise NotFound(
                    f"job {job_id!r} not found in workspace {caller.workspace!r}"
                ) from None
    except SeedbedError as error:
        fail(error)
        return
    Output(as_json=as_json).result(found, render_report(found))


@app.command("cancel")
def cancel(
    job_id: JobIdArgument,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Stop a job; the samples it already has stay with it."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.services import jobs
    from seedbed.services.context import Caller

    database = open_database(database_url)
    try:
        with database.writing() as connection:
            job = jobs.cancel_job(connection, Caller(workspace), job_id)
    except SeedbedError as error:
        fail(error)
        return
    status = "cancelled" if job.cancel_requested else job.status
    Output(as_json=as_json).result({"id": job.id, "status": status}, f"{job.id}\t{status}")


def account(job: "GenerationJob") -> str:
    from seedbed.services.context import utcnow

    totals = job.totals()
    rejected = ", ".join(
        f"{reason.replace('_', ' ')} {count}"
        for reason, count in sorted(totals["rejected"].items())
        if count
    )
    parts = [
        f"rejected: {rejected or 'none'}",
        f"{totals['calls']} calls",
        f"{totals['prompt_tokens'] + totals['completion_tokens']:,} tokens",
    ]
    if cost := money(totals["cost"], free=totals["cost"] == 0):
        parts.append(cost)
    if totals["stage"] and totals["tokens_in_flight"]:
        stage = totals["stage"].replace("_", " ")
        parts.append(f"{stage}: {totals['tokens_in_flight']:,} tokens so far")
    elif totals["stage"] and not job.accepted:
        parts.append(totals["stage"].replace("_", " "))
    if (eta := job.eta_seconds(utcnow())) is not None:
        parts.append(f"ETA {eta:.0f} s")
    return " · ".join(parts)


def _read(database, caller: "Caller", job_id: str) -> "GenerationJob":
    from seedbed.domain.errors import NotFound
    from seedbed.services import jobs

    with database.reading() as connection:
        try:
            return jobs.get_job(connection, caller, job_id)
        except NotFound:
            raise NotFound(f"job {job_id!r} not found in workspace {caller.workspace!r}") from None
