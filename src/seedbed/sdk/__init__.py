"""A client for a seedbed server's own API (generation jobs), sync and async.

from seedbed.sdk import Client

with Client("http://127.0.0.1:5174") as seedbed:
    job = seedbed.start_job(count=500, dataset_name="support", model="openai/gpt-4o-mini", save=True)
    for update in seedbed.events(job["id"]):   # server-sent events until the job ends
        print(update["accepted"], "/", update["requested"])

Failures raise the SDK's own errors, all :class:`SeedbedClientError` (the tree is in
:mod:`seedbed.sdk.errors`).
"""

from seedbed.sdk.client import AsyncClient, Client
from seedbed.sdk.errors import (
    APIError,
    Conflict,
    JobFailed,
    JobTimedOut,
    NotAuthorized,
    NotFound,
    RequestRefused,
    SeedbedClientError,
    ServerError,
    ServerUnreachable,
)

__all__ = [
    "APIError",
    "AsyncClient",
    "Client",
    "Conflict",
    "JobFailed",
    "JobTimedOut",
    "NotAuthorized",
    "NotFound",
    "RequestRefused",
    "SeedbedClientError",
    "ServerError",
    "ServerUnreachable",
]
