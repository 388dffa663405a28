"""Topics: a run first asks what its samples will be about, per label, then gives every
sample one situation listed under its own label."""

import asyncio
import json

import seedbed
from seedbed.generation.estimate import estimate_generation
from seedbed.generation.result import COMPLETED
from seedbed.generation.spec import Budget, GenerationSpec, spec_from_record, spec_to_record
from seedbed.generation.topics import parse_topics, without_topic
from seedbed.providers.base import Completion, Usage
from seedbed.providers.progress import WRITING, CallProgress, report
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing.canned_provider import CannedProvider
from tests.stub_calls import sample_calls

from .test_judge import CATEGORIES, SUPPORT

TOPICS = {
    "shipping": ["a parcel left at a neighbour's door", "a courier who never rang"],
    "billing": ["a gift card that paid only half", "VAT charged on an export order"],
    "account": ["a login code sent to an old phone", "two accounts with one email"],
    "returns": ["a jacket returned after the 30 days", "a refund for a missing sock"],
    "technical": ["a checkout page that stays blank", "the app logs out every minute"],
}


_SAMPLES = [
    (
        "My neighbour signed for a box that is not mine",
        "Ask them to hand it back; we collect it tomorrow.",
        "shipping",
    ),
    (
        "The gift card covered only half of my basket",
        "Cards pay up to their balance; pay the rest by card.",
        "billing",
    ),
    (
        "A login code keeps going to a number I gave up",
        "Change the phone number under Security first.",
        "account",
    ),
    (
        "The jacket came back after five weeks, refund?",
        "Past thirty days we offer store credit instead.",
        "returns",
    ),
    (
        "Checkout shows a blank page after the address step",
        "Clear the browser cache, then try again.",
        "technical",
    ),
    (
        "The courier marked my order delivered while I was home",
        "We opened a claim with the carrier today.",
        "shipping",
    ),
    (
        "Why is there VAT on an order going to Switzerland",
        "Swiss orders are charged without VAT from now on.",
        "billing",
    ),
    (
        "I have two accounts under one email",
        "Support merges them once you confirm both logins.",
        "account",
    ),
    ("One sock of the pair was missing", "Keep the pair, the missing one is refunded.", "returns"),
    (
        "Your app signs me out every minute on my tablet",
        "Version 4.2 fixes that; please update.",
        "technical",
    ),
]


def _replies(*first: str):
    """Replies of a provider without structured output: ``first``, then two of five samples."""
    batches = [_SAMPLES[:5], _SAMPLES[5:]]
    return [
        *first,
        *(
            json.dumps(
                {
                    "samples": [
                        dict(zip(("input", "expected_output", "category"), sample, strict=True))
                        for sample in batch
                    ]
                }
            )
            for batch in batches
        ),
    ]


def _run(provider, n, **options):
    registry = ProviderRegistry(Settings(), load_plugins=False)
    registry.add_provider(provider.name, provider)
    return asyncio.run(
        seedbed.aexpand(SUPPORT, n, registry=registry, model=f"{provider.name}/m", **options)
    )


def test_every_sample_is_about_a_topic_listed_under_its_own_label():
    provider = CannedProvider(_replies(json.dumps(TOPICS)), name="canned")
    result = _run(provider, 10, samples_per_call=5, random_seed=11)

    assert result.stop_reason == COMPLETED and len(result.items) == 10
    topic_call, *generation_calls = provider.requests
    # The planning call: every label, two situations each (ten samples, five labels).
    schema = topic_call.json_schema
    assert set(schema["properties"]) == CATEGORIES
    assert {prop["minItems"] for prop in schema["properties"].values()} == {2}
    assert "For each category" in topic_call.messages[-1].content
    # Each generation prompt names, per sample, its label and a situation of that label;
    # over the two calls every situation comes once.
    named = []
    for request in generation_calls:
        prompt = request.messages[-1].content
        for label, topics in TOPICS.items():
            named += [topic for topic in topics if f'category = "{label}", about {topic}' in prompt]
    assert sorted(named) == sorted(topic for topics in TOPICS.values() for topic in topics)
    # Each sample records what it was asked to be about, and the report counts it.
    about = [sample.provenance.topic for sample in result.samples]
    assert sorted(about) == sorted(named)
    assert sum(result.report["topics"].values()) == 10
    assert result.stats.calls == 3


def test_a_run_goes_on_without_topics_when_the_planning_reply_is_unusable():
    provider = CannedProvider(_replies("I would rather not."), name="canned")
    result = _run(provider, 10, samples_per_call=5)

    assert result.stop_reason == COMPLETED and len(result.items) == 10
    assert all('", about ' not in request.messages[-1].content for request in provider.requests[1:])
    assert all(sample.provenance.topic is None for sample in result.samples)
    assert result.report["topics"] == {}


def test_topics_can_be_turned_off_and_a_custom_prompt_or_a_tight_call_budget_has_none():
    for options in (
        {"plan_topics": False},
        {"custom_prompt": "Write {count} support tickets like these:\n{examples}"},
        {"budget": Budget(max_calls=2)},
    ):
        provider = CannedProvider(_replies(), name="canned")
        result = _run(provider, 10, samples_per_call=5, **options)

        assert result.stop_reason == COMPLETED and result.stats.calls == 2, options
        assert all("samples" in request.messages[0].content for request in provider.requests)


def test_unusable_topics_are_dropped():
    reply = json.dumps(
        {
            "billing": ["A refund to a closed card.", "a refund to a closed card", "", 7],
            "shipping": ["a parcel for [customer name]", " ".join(["word"] * 20)],
        }
    )
    assert parse_topics(reply, ["billing", "shipping"]) == {
        "billing": ["A refund to a closed card"]
    }
    assert parse_topics('```json\n{"topics": ["a late parcel"]}\n```', []) == {
        None: ["a late parcel"]
    }


def test_the_estimate_counts_the_planning_call_and_a_stored_job_keeps_its_calls():
    with_topics = GenerationSpec(count=20)
    without = GenerationSpec(count=20, plan_topics=False)
    estimates = [
        estimate_generation(spec, SUPPORT, qualified_model="openai/gpt-4o-mini", concurrency=4)
        for spec in (with_topics, without)
    ]
    assert estimates[0].calls == estimates[1].calls + 1
    assert estimates[0].completion_tokens > estimates[1].completion_tokens
    assert estimates[0].prompt_tokens > estimates[1].prompt_tokens
    # A job stored before topics existed resumes planning the calls it first made.
    record = spec_to_record(with_topics)
    assert spec_from_record(record).plan_topics is True
    del record["plan_topics"]
    assert spec_from_record(record).plan_topics is False


def test_a_label_field_named_topic_keeps_its_labels(registry, stub):
    seeds = [
        {"question": question, "topic": topic}
        for question, topic in [
            ("How do I reset my password?", "account"),
            ("Can I pay by invoice?", "billing"),
            ("Where is my order?", "shipping"),
            ("How do I delete my account?", "account"),
            ("Do you ship to Canada?", "shipping"),
        ]
    ]
    result = seedbed.expand(seeds, 12, model="openai/gpt-4o-mini", registry=registry)

    assert result.stop_reason == COMPLETED and len(result.items) == 12
    assert {item["topic"] for item in result.items} <= {"account", "billing", "shipping"}
    assert all(sample.provenance.topic for sample in result.samples)


class _SlowTopics:
    """Writes the topics slowly, as the embedded model does, telling its progress."""

    name = "slow"
    max_concurrency = 2
    supports_json_schema = False

    def __init__(self) -> None:
        self.replies = iter(_replies())

    async def complete(self, request):
        if "samples" not in request.messages[0].content:
            for written in (40, 80):
                report(CallProgress(WRITING, written))
                await asyncio.sleep(0.6)
            return Completion(json.dumps(TOPICS), Usage(300, 120))
        return Completion(next(self.replies), Usage(300, 200))


def test_the_run_shows_progress_while_the_topics_are_written():
    seen = []
    provider = _SlowTopics()
    registry = ProviderRegistry(Settings(), load_plugins=False)
    registry.add_provider(provider.name, provider)

    def heard(stats):
        seen.append((stats.stage, stats.tokens_in_flight, stats.accepted))

    result = asyncio.run(
        seedbed.aexpand(SUPPORT, 10, registry=registry, model="slow/m", on_progress=heard)
    )

    assert result.stop_reason == COMPLETED and len(result.items) == 10
    # Before any sample: the stage and the tokens written so far, more than once.
    planning = [entry for entry in seen if entry[0] == "planning_topics" and entry[2] == 0]
    assert len(planning) >= 2 and max(tokens for _, tokens, _ in planning) >= 40


def test_each_sample_writes_its_topic_first_under_a_key_the_seeds_do_not_use(registry, stub):
    seeds = [
        {"about": "a late train", "answer": "Trains late by an hour are refunded in full."},
        {"about": "a lost ticket", "answer": "A lost ticket can be printed again online."},
        {"about": "bikes on board", "answer": "Bikes ride free outside the rush hours."},
    ]
    result = seedbed.expand(seeds, 6, model="openai/gpt-4o-mini", registry=registry)

    assert result.stop_reason == COMPLETED and len(result.items) == 6
    assert all(set(item) == {"about", "answer"} for item in result.items)
    for call in sample_calls(stub):
        slots = call["response_format"]["json_schema"]["schema"]["properties"]["samples"]
        for slot in slots["prefixItems"]:
            assert list(slot["properties"])[:2] == ["_about", "about"]
    # The topic a sample records is the one its position in the reply was held to.
    for sample in result.samples:
        assert sample.provenance.topic in result.report["topics"]


def test_a_topic_echoed_as_a_heading_is_taken_out_of_the_text():
    written = {
        "about": "Video Quality",
        "question": "What video quality does Premium offer?",
        "answer": "video quality: 4K on two devices.",
    }
    assert without_topic(written, "about") == {
        "question": "What video quality does Premium offer?",
        "answer": "4K on two devices.",
    }
    # Only a heading: the same words inside a text stay.
    said = {"about": "refunds", "answer": "Refunds take five days: we start today."}
    assert without_topic(said, "about") == {"answer": "Refunds take five days: we start today."}
