"""How a chunk stores a reply's samples: in one transaction, exact repeats refused by the
job's unique digests even when two chunks store the same sample at the same moment,
never more than the job asked for, nothing once the job is cancelled. On SQLite and on
PostgreSQL."""

import asyncio

import pytest

from seedbed.domain.jobs import MAX_CHUNKS, chunk_targets
from seedbed.generation.result import CANCELLED, DUPLICATE, SURPLUS, GeneratedSample, Provenance
from seedbed.generation.spec import GenerationSpec
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import jobs
from seedbed.services.context import Caller
from seedbed.services.job_runner import JobSink
from seedbed.settings import Settings
from seedbed.storage.repositories.jobs import JobRepository
from seedbed.testing.canned_provider import CannedProvider

CALLER = Caller()
SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the reset link."},
    {"question": "Can I change my billing address?", "answer": "Yes, under Billing."},
]


def sample(question: str) -> GeneratedSample:
    provenance = Provenance(
        seed_item_ids=(),
        model="canned/house",
        provider="canned",
        prompt_hash="p",
        call_index=0,
        attempt=1,
        data_type=None,
        strategy="few_shot_variation",
        prompt_tokens=1.0,
        completion_tokens=1.0,
        cost=0.0,
        cached=False,
    )
    return GeneratedSample({"question": question, "answer": "Ask support."}, provenance)


@pytest.fixture
def job(database, tmp_path):
    """A queued job of three samples, in two chunks."""
    registry = ProviderRegistry(Settings(home=tmp_path), load_plugins=False)
    registry.add_provider("canned", CannedProvider([]))
    with database.writing() as connection:
        created = jobs.create_job(
            connection, CALLER, registry, GenerationSpec(count=3, model="canned/house"), seeds=SEEDS
        )
    return created


def sink(database, job, chunk_index: int) -> JobSink:
    return JobSink(database, job, chunk_index, last_sequence=0, earlier={}, ignored_fields=())


def stored(database, job_id: str) -> tuple[int, list[str]]:
    with database.reading() as connection:
        repository = JobRepository(connection)
        accepted = repository.get(job_id).accepted
        return accepted, [item["data"]["question"] for item in repository.items(job_id)]


def test_two_chunks_storing_the_same_sample_at_once_keep_it_once(database, job):
    same = sample("Why was my card declined?")

    async def both():
        return await asyncio.gather(
            sink(database, job, 0).store([same]), sink(database, job, 1).store([same])
        )

    refusals = sorted(asyncio.run(both()), key=str)
    assert refusals == [[DUPLICATE], [None]]
    assert stored(database, job.id) == (1, ["Why was my card declined?"])


def test_a_reply_repeating_a_stored_sample_or_itself_keeps_only_the_new_ones(database, job):
    first = sink(database, job, 0)
    asyncio.run(first.store([sample("Why was my card declined?")]))
    refusals = asyncio.run(
        sink(database, job, 1).store(
            [
                sample("why was my card DECLINED"),  # the same text, once normalized
                sample("Where are my invoices?"),
                sample("Where are my invoices?"),
            ]
        )
    )
    assert refusals == [DUPLICATE, None, DUPLICATE]
    assert stored(database, job.id) == (2, ["Why was my card declined?", "Where are my invoices?"])


def test_samples_beyond_the_requested_count_are_refused_and_not_kept(database, job):
    chunk = sink(database, job, 0)
    refusals = asyncio.run(chunk.store([sample(f"Question number {n}?") for n in range(1, 6)]))
    assert refusals == [None, None, None, SURPLUS, SURPLUS]
    assert chunk.stopped()
    assert stored(database, job.id) == (
        3,
        ["Question number 1?", "Question number 2?", "Question number 3?"],
    )


def test_nothing_is_stored_once_the_job_is_cancelled(database, job):
    with database.writing() as connection:
        jobs.cancel_job(connection, CALLER, job.id)
    chunk = sink(database, job, 0)
    assert asyncio.run(chunk.store([sample("Why was my card declined?")])) == [CANCELLED]
    assert chunk.stopped()
    assert stored(database, job.id) == (0, [])


def test_a_large_job_is_cut_into_a_bounded_number_of_chunks():
    assert chunk_targets(1000) == [100] * 10
    targets = chunk_targets(100_000)
    assert len(targets) == MAX_CHUNKS and sum(targets) == 100_000
    assert max(targets) - min(targets) <= 1
