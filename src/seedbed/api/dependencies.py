"""What routes receive, as typed dependencies: the app's settings, database, providers
and job dispatcher; the caller (workspace and name); and a unit of work.

This is the one module that reads ``app.state`` (``create_app`` fills it): routes name the
dependency they need by type instead of reaching into the app.

The dependencies that only read the app's state are ``async``: FastAPI runs a plain
``def`` dependency in its thread pool, a hand-over to another thread and back for each
(seven per request before), and under load every hand-over waits its turn for a thread
and for the GIL. Only work that may block (a unit of work, a key to look up) goes there.
"""

from collections.abc import Iterator
from typing import Annotated, Protocol

from fastapi import BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Connection

from seedbed.api.auth import caller_for_credential
from seedbed.domain.keys import secret_from_header
from seedbed.providers.registry import ProviderRegistry
from seedbed.services.context import Caller
from seedbed.services.job_events import JobEvents
from seedbed.settings import Settings
from seedbed.storage.database import Database

WORKSPACE_HEADER = "comet-workspace"


class JobDispatcher(Protocol):
    """Runs (in process) or queues (for workers) a job once it is committed."""

    async def dispatch(self, job_id: str) -> None: ...


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


async def app_settings(request: Request) -> Settings:
    return settings_of(request)


async def app_database(request: Request) -> Database:
    return request.app.state.database


async def app_providers(request: Request) -> ProviderRegistry:
    return request.app.state.providers


async def app_job_dispatcher(request: Request) -> JobDispatcher:
    return request.app.state.job_dispatcher


async def app_job_events(request: Request) -> JobEvents:
    return request.app.state.job_events


SettingsDep = Annotated[Settings, Depends(app_settings)]
DatabaseDep = Annotated[Database, Depends(app_database)]
ProvidersDep = Annotated[ProviderRegistry, Depends(app_providers)]
JobDispatcherDep = Annotated[JobDispatcher, Depends(app_job_dispatcher)]
JobEventsDep = Annotated[JobEvents, Depends(app_job_events)]


class JobsAfterCommit:
    """The one way a request starts the jobs it created: they are dispatched once its
    unit of work has committed, so a worker never looks for a job that is not there yet.
    Background tasks run after the response, and the response goes out after the commit
    (``Writing``, or a page's own ``writing()`` block)."""

    def __init__(self, dispatcher: JobDispatcherDep, background: BackgroundTasks) -> None:
        self._dispatcher = dispatcher
        self._background = background

    def dispatch(self, job_id: str) -> None:
        self._background.add_task(self._dispatcher.dispatch, job_id)


DispatchAfterCommit = Annotated[JobsAfterCommit, Depends()]


async def current_caller(request: Request, settings: SettingsDep, database: DatabaseDep) -> Caller:
    """Opik's and seedbed's own caller: the key in ``Authorization`` (raw, as Opik sends
    it, or ``Bearer``), in the workspace ``Comet-Workspace`` names. Looking a key up reads
    the database, in the thread pool; without keys (local mode) nothing is read."""
    workspace = request.headers.get(WORKSPACE_HEADER, "").strip() or None
    secret = secret_from_header(request.headers.get("authorization"))
    if not settings.requires_api_key:
        return caller_for_credential(settings, database, secret, workspace=workspace)
    return await run_in_threadpool(
        caller_for_credential, settings, database, secret, workspace=workspace
    )


def reading(database: DatabaseDep) -> Iterator[Connection]:
    with database.reading() as connection:
        yield connection


def writing(database: DatabaseDep) -> Iterator[Connection]:
    with database.writing() as connection:
        yield connection


CallerDep = Annotated[Caller, Depends(current_caller)]
# scope="function": the transaction commits before the response goes out, so a client
# never sees success for a write that then fails to commit.
Reading = Annotated[Connection, Depends(reading, scope="function")]
Writing = Annotated[Connection, Depends(writing, scope="function")]
