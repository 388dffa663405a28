"""``seedbed jobs``: list, watch and cancel generation jobs."""

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from seedbed.cli.common import (
    DatabaseUrlOption,
    WorkspaceOption,
    errors,
    fail,
    open_database,
    print_table,
)
from seedbed.domain.errors import SeedbedError
from seedbed.domain.jobs import COMPLETED, GenerationJob
from seedbed.services import jobs
from seedbed.services.context import Caller, utcnow

app = typer.Typer(help="List, watch and cancel generation jobs.", no_args_is_help=True)

JobIdArgument = Annotated[str, typer.Argument(help="The job's id.")]


@app.command("list")
def list_jobs(
    workspace: WorkspaceOption = "default", database_url: DatabaseUrlOption = None
) -> None:
    """The workspace's generation jobs, newest first."""
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
    print_table(["id", "status", "samples", "model", "created"], rows)


@app.command("watch")
def watch(
    job_id: JobIdArgument,
    interval: Annotated[float, typer.Option(help="Seconds between updates.")] = 0.5,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """A live progress bar until the job ends; the exit code is 0 only if it completed."""
    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        job = _read(database, caller, job_id)
        columns = (
            TextColumn("[bold]{task.fields[status]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[account]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=errors) as progress:
            task = progress.add_task("job", total=job.requested, status=job.status, account="")
            while True:
                progress.update(
                    task, completed=job.accepted, status=job.status, account=account(job)
                )
                if job.finished:
                    break
                time.sleep(interval)
                job = _read(database, caller, job_id)
    except SeedbedError as error:
        fail(error)
        return
    if job.status != COMPLETED:
        errors.print(f"[yellow]{job.status}:[/yellow] {job.detail or ''}")
        raise typer.Exit(code=1)
    target = (
        f" into dataset {job.target_dataset_name or job.target_dataset_id} ({job.written_version})"
        if job.written_version
        else ""
    )
    errors.print(f"completed: {job.accepted} samples{target}")


@app.command("cancel")
def cancel(
    job_id: JobIdArgument,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Stop a job; the samples it already has stay with it."""
    database = open_database(database_url)
    try:
        with database.writing() as connection:
            job = jobs.cancel_job(connection, Caller(workspace), job_id)
    except SeedbedError as error:
        fail(error)
        return
    print(f"{job.id}\t{'cancelled' if job.cancel_requested else job.status}")


def account(job: GenerationJob) -> str:
    totals = job.totals()
    rejected = ", ".join(
        f"{reason.replace('_', ' ')} {count}"
        for reason, count in sorted(totals["rejected"].items())
        if count
    )
    eta = job.eta_seconds(utcnow())
    return (
        f"rejected: {rejected or 'none'} · {totals['calls']} calls · "
        f"{totals['prompt_tokens'] + totals['completion_tokens']:,} tokens · ${totals['cost']:.4f}"
        + (f" · ETA {eta:.0f} s" if eta is not None else "")
    )


def _read(database, caller: Caller, job_id: str) -> GenerationJob:
    with database.reading() as connection:
        return jobs.get_job(connection, caller, job_id)
