"""Generation jobs on ``seedbed worker`` processes, through procrastinate on PostgreSQL.

The server (``SEEDBED_JOB_RUNNER=workers``) only queues: :class:`WorkerDispatcher`
defers one procrastinate job per chunk of a new job. Any number of workers, on any
machines that reach the database, take them (:func:`run_worker`): ``queue`` says how
chunks map to procrastinate jobs, ``worker`` how a dead worker's chunks come back.
"""

from seedbed.workers.dispatcher import WorkerDispatcher
from seedbed.workers.queue import ChunkQueue, libpq_conninfo
from seedbed.workers.worker import run_worker

__all__ = ["ChunkQueue", "WorkerDispatcher", "libpq_conninfo", "run_worker"]
