"""A client for a seedbed server's own API (generation jobs), sync and async.

from seedbed.sdk import Client

with Client("http://127.0.0.1:5174") as seedbed:
    job = seedbed.start_job(count=500, dataset_name="support", model="openai/gpt-4o-mini", save=True)
    for update in seedbed.events(job["id"]):   # server-sent events until the job ends
        print(update["accepted"], "/", update["requested"])
"""

from seedbed.sdk.client import AsyncClient, Client, JobFailed

__all__ = ["AsyncClient", "Client", "JobFailed"]
