"""Reviewing a finished job's samples: keep, edit, reject, then add exactly the kept
samples as one new version of the dataset the job expanded. The job runs for real (the
engine with a canned provider) on SQLite and on PostgreSQL."""

import asyncio
import json

import pytest

from seedbed.domain.errors import Conflict, InvalidInput, NotFound
from seedbed.generation.spec import GenerationSpec
from seedbed.providers.registry import ProviderRegistry
from seedbed.services import jobs, review
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset, require_dataset_by_name
from seedbed.services.items import draft_from_fields, export_items, upsert_items
from seedbed.services.job_runner import run_chunk
from seedbed.services.versions import list_versions
from seedbed.settings import Settings
from seedbed.testing.canned_provider import CannedProvider

CALLER = Caller()
SEEDS = [
    {"question": "How do I reset my password?", "answer": "Use the reset link."},
    {"question": "Can I change my billing address?", "answer": "Yes, under Billing."},
]
GENERATED = [
    {"question": "Why was my card declined at checkout?", "answer": "Ask your bank."},
    {"question": "Where can I download last year's invoices?", "answer": "Under Documents."},
    {"question": "How do I add a second user to the team plan?", "answer": "Invite them."},
    {"question": "Is there a student discount on annual plans?", "answer": "Yes, 30%."},
    {"question": "What happens to my data if I close the account?", "answer": "Deleted."},
]

TOPICS = ["a declined card", "old invoices", "a new teammate", "discounts", "closing down"]


@pytest.fixture
def finished_job(database, tmp_path):
    """A dataset of two seeds and a completed job that generated five samples from it,
    started with no save target (as the UI starts it)."""
    registry = ProviderRegistry(Settings(home=tmp_path), load_plugins=False)
    replies = [json.dumps({"topics": TOPICS}), json.dumps({"samples": GENERATED})]
    registry.add_provider("canned", CannedProvider(replies))
    with database.writing() as connection:
        upsert_items(
            connection,
            CALLER,
            [draft_from_fields({"data": seed}) for seed in SEEDS],
            dataset_name="support",
        )
        dataset = require_dataset_by_name(connection, CALLER, "support")
        job = jobs.create_job(
            connection,
            CALLER,
            registry,
            GenerationSpec(count=5, model="canned/house"),
            source_dataset_id=dataset.id,
        )
    asyncio.run(run_chunk(database, registry, job.id, 0, "test"))
    with database.reading() as connection:
        assert jobs.get_job(connection, CALLER, job.id).status == "completed"
    return dataset.id, job.id


def _items(database, dataset_id):
    with database.reading() as connection:
        dataset = require_dataset(connection, CALLER, dataset_id)
        return list(export_items(connection, CALLER, dataset))


def test_every_sample_shows_its_provenance_and_counts_as_kept_at_first(database, finished_job):
    _, job_id = finished_job
    with database.reading() as connection:
        page = review.review_page(connection, CALLER, job_id, page=1, size=2)
    assert (page.total, page.kept, page.rejected) == (5, 5, 0)
    assert [sample.data for sample in page.samples] == GENERATED[:2]
    first = page.samples[0]
    assert first.model == "canned/house"
    # What the run asked it to be about, from the topics it planned first.
    assert first.topic in TOPICS
    assert first.kept and not first.edited
    assert first.seed_item_ids and set(first.seed_item_ids) <= {
        item.id for item in _items(database, finished_job[0])
    }
    with database.reading() as connection:
        second_page = review.review_page(connection, CALLER, job_id, page=3, size=2)
    assert [sample.data for sample in second_page.samples] == GENERATED[4:]


def test_add_commits_exactly_the_kept_samples_as_edited_in_one_version(database, finished_job):
    dataset_id, job_id = finished_job
    with database.reading() as connection:
        sequences = [s.sequence for s in review.review_page(connection, CALLER, job_id).samples]
    edited = {**GENERATED[2], "answer": "Invite them from Settings, Team."}
    with database.writing() as connection:
        review.record_decisions(
            connection,
            CALLER,
            job_id,
            [
                review.SampleDecision(sequences[0], keep=False, reason="too close to a seed"),
                review.SampleDecision(sequences[1], keep=False),
                review.SampleDecision(sequences[2], keep=True, data=edited),
            ],
        )
        version = review.add_kept_samples(connection, CALLER, job_id)

    assert version.name == "v2"
    assert version.changes.added == 3 and version.items_total == 5
    assert job_id in version.change_description
    items = _items(database, dataset_id)

    def canonical(data):
        return json.dumps(data, sort_keys=True)

    expected = [*SEEDS, edited, GENERATED[3], GENERATED[4]]
    assert sorted(canonical(item.data) for item in items) == sorted(map(canonical, expected))
    added = [item for item in items if item.data not in SEEDS]
    assert all("generated" in item.tags and f"job:{job_id}" in item.tags for item in added)
    with database.reading() as connection:
        versions = list_versions(connection, CALLER, dataset_id, 1, 10).content
        assert [v.name for v in versions] == ["v2", "v1"]
        page = review.review_page(connection, CALLER, job_id)
        assert page.job.written_version == "v2"
    rejected = {s.sequence: s.reason for s in page.samples if not s.kept}
    assert rejected == {sequences[0]: "too close to a seed", sequences[1]: None}

    with database.writing() as connection, pytest.raises(Conflict, match="already added"):
        review.add_kept_samples(connection, CALLER, job_id)


def test_bad_decisions_change_nothing(database, finished_job):
    _, job_id = finished_job
    with database.reading() as connection:
        first = review.review_page(connection, CALLER, job_id).samples[0].sequence
    with pytest.raises(NotFound):
        with database.writing() as connection:
            review.record_decisions(
                connection,
                CALLER,
                job_id,
                [
                    review.SampleDecision(first, keep=False),
                    review.SampleDecision(10**9, keep=False),
                ],
            )
    with pytest.raises(InvalidInput, match="JSON object"):
        with database.writing() as connection:
            review.record_decisions(
                connection, CALLER, job_id, [review.SampleDecision(first, keep=True, data=[1])]
            )
    with database.reading() as connection:
        assert review.review_page(connection, CALLER, job_id).rejected == 0


def test_a_sample_sent_back_unchanged_is_not_an_edit(database, finished_job):
    _, job_id = finished_job
    with database.writing() as connection:
        first = review.review_page(connection, CALLER, job_id).samples[0]
        review.record_decisions(
            connection,
            CALLER,
            job_id,
            [review.SampleDecision(first.sequence, keep=True, data=dict(first.data))],
        )
        shown = review.review_page(connection, CALLER, job_id).samples[0]
    assert shown.status == review.KEPT and not shown.edited


def test_nothing_kept_is_refused(database, finished_job):
    _, job_id = finished_job
    with database.writing() as connection:
        page = review.review_page(connection, CALLER, job_id)
        review.record_decisions(
            connection,
            CALLER,
            job_id,
            [review.SampleDecision(sample.sequence, keep=False) for sample in page.samples],
        )
    with database.writing() as connection, pytest.raises(InvalidInput, match="no sample is kept"):
        review.add_kept_samples(connection, CALLER, job_id)


def test_another_workspace_cannot_see_or_review_the_job(database, finished_job):
    _, job_id = finished_job
    with database.reading() as connection, pytest.raises(NotFound):
        review.review_page(connection, Caller(workspace="other"), job_id)
