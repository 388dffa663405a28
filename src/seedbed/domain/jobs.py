"""Generation jobs: a generation run that outlives the request that started it.

A job is cut into chunks of ``CHUNK_SIZE`` samples, or into ``MAX_CHUNKS`` larger ones.
Chunks run independently (several at once in the server, or on any number of workers)
and store each accepted sample as it arrives, unique within the job; a chunk that was
interrupted runs again and continues from the samples it already stored.
"""

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CHUNK_SIZE = 100
# Chunks are how a job spreads over workers: sixteen keep four workers at their default
# --concurrency 4 busy. More would cost more than they bring: each chunk's judge starts
# by remembering every sample the job stored before it, and keeps them all in memory.
MAX_CHUNKS = 16

# A job's statuses, and the only ways it moves between them.
QUEUED = "queued"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
FINISHED = (COMPLETED, FAILED, CANCELLED)
UNFINISHED = (QUEUED, RUNNING)
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, CANCELLED, FAILED}),
    RUNNING: frozenset({COMPLETED, FAILED, CANCELLED}),
    COMPLETED: frozenset(),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
}

# A chunk's statuses. A running chunk goes back to the queue when its process died.
CHUNK_QUEUED = QUEUED
CHUNK_RUNNING = RUNNING
CHUNK_DONE = "done"
CHUNK_FAILED = FAILED
CHUNK_CANCELLED = CANCELLED
CHUNK_UNSETTLED = (CHUNK_QUEUED, CHUNK_RUNNING)
CHUNK_TRANSITIONS: dict[str, frozenset[str]] = {
    CHUNK_QUEUED: frozenset({CHUNK_RUNNING, CHUNK_CANCELLED}),
    CHUNK_RUNNING: frozenset(
        {CHUNK_RUNNING, CHUNK_QUEUED, CHUNK_DONE, CHUNK_FAILED, CHUNK_CANCELLED}
    ),
    CHUNK_DONE: frozenset(),
    CHUNK_FAILED: frozenset(),
    CHUNK_CANCELLED: frozenset(),
}


class InvalidTransition(Exception):
    """A status change the state machine does not allow: a bug, never a user's error."""


def check_job_transition(current: str, new: str) -> None:
    if new != current and new not in JOB_TRANSITIONS[current]:
        raise InvalidTransition(f"a {current} job cannot become {new}")


def check_chunk_transition(current: str, new: str) -> None:
    if new != current and new not in CHUNK_TRANSITIONS[current]:
        raise InvalidTransition(f"a {current} chunk cannot become {new}")


def chunk_targets(
    count: int, chunk_size: int = CHUNK_SIZE, max_chunks: int = MAX_CHUNKS
) -> list[int]:
    chunks = min(max_chunks, max(1, math.ceil(count / chunk_size)))
    share, remainder = divmod(count, chunks)
    return [share + (1 if index < remainder else 0) for index in range(chunks)]


def chunk_seed(job_seed: int, chunk_index: int) -> int:
    """Each chunk plans different calls (else two chunks would ask the same questions),
    and the same calls every time it runs (so a re-run replays from the cache)."""
    return job_seed * 10_007 + chunk_index


@dataclass(slots=True)
class JobChunk:
    job_id: str
    chunk_index: int
    target: int
    status: str
    attempts: int
    owner: str | None
    stats: dict[str, Any]
    detail: str | None = None
    heartbeat_at: dt.datetime | None = None


@dataclass(slots=True)
class GenerationJob:
    id: str
    workspace: str
    kind: str
    status: str
    spec: dict[str, Any]
    source: dict[str, Any]
    requested: int
    accepted: int
    cancel_requested: bool
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    target_dataset_id: str | None = None
    target_dataset_name: str | None = None
    written_version: str | None = None
    detail: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    chunks: list[JobChunk] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def totals(self) -> dict[str, Any]:
        """Counters summed over the chunks: calls, tokens, cost, rejections by reason, and
        what the running chunks are doing (stage, tokens written by calls in flight)."""
        rejected: Counter = Counter()
        totals = {
            "calls": 0,
            "cached_calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost": 0.0,
        }
        stage, tokens_in_flight = "", 0
        for chunk in self.chunks:
            rejected.update(chunk.stats.get("rejected", {}))
            for key in totals:
                totals[key] += chunk.stats.get(key, 0)
            if chunk.status == CHUNK_RUNNING:
                stage = stage or chunk.stats.get("stage", "")
                tokens_in_flight += chunk.stats.get("tokens_in_flight", 0)
        return {
            **totals,
            "rejected": dict(rejected),
            "stage": stage,
            "tokens_in_flight": tokens_in_flight,
        }

    def eta_seconds(self, now: dt.datetime) -> float | None:
        if self.finished or not self.started_at or self.accepted <= 0:
            return None
        elapsed = (now - self.started_at).total_seconds()
        return max(0.0, elapsed / self.accepted * (self.requested - self.accepted))
