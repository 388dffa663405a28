"""The engine's promise: exactly N new, valid, unique samples, or an exact account of
why not, against a provider that misbehaves like real ones do."""

import asyncio
import itertools
import json
import time

import pytest
from jsonschema import Draft202012Validator

import seedbed
from seedbed.domain.errors import InvalidInput
from seedbed.generation import Budget, MemoryResponseCache
from seedbed.generation.dedup import NearDuplicateFilter, sample_text
from seedbed.generation.engine import KeepingSink
from seedbed.generation.factory import GenerationFactory
from seedbed.generation.result import (
    BUDGET_EXHAUSTED,
    COMPLETED,
    NO_VALID_SAMPLES,
    PROVIDER_UNAVAILABLE,
    SAMPLE_REJECTIONS,
)
from seedbed.generation.schema import infer_item_schema
from seedbed.generation.spec import SeedItem
from seedbed.providers.base import (
    Completion,
    CompletionRequest,
    ProviderNotConfigured,
    RateLimited,
    UnknownModel,
    Usage,
)
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour
from seedbed.testing.canned_provider import CannedProvider
from tests.generation.seed_examples import SEEDS

SAMPLE_REASONS = SAMPLE_REJECTIONS


def expand(registry, n=20, model="openai/gpt-4o-mini", seeds=SEEDS, **options):
    return seedbed.expand(seeds, n, model=model, registry=registry, **options)


def assert_delivered(result, n, seeds=SEEDS, existing=()):
    """Exactly n samples, every one in the seeds' shape, none repeating another, a seed
    or a known item."""
    assert result.stop_reason == COMPLETED, result.detail
    assert len(result.items) == n
    validator = Draft202012Validator(infer_item_schema(seeds))
    for item in result.items:
        assert not list(validator.iter_errors(item)), item
    seen = NearDuplicateFilter()
    for known in [*seeds, *existing]:
        seen.add(sample_text(known))
    for item in result.items:
        assert seen.add_if_new(sample_text(item)) is None, f"repeated: {item}"


def assert_counts_add_up(result):
    stats = result.stats
    rejected = stats.rejected
    assert stats.samples_received == stats.accepted + sum(rejected[r] for r in SAMPLE_REASONS)
    assert (
        stats.calls + stats.cached_calls
        == stats.replies + stats.failed_attempts + stats.abandoned_calls
    )
    assert stats.accepted == len(result.samples)


def test_clean_provider_gives_exactly_n_valid_unique_samples(registry, stub):
    result = expand(registry, n=23)

    assert_delivered(result, 23)
    assert_counts_add_up(result)
    # Several samples per call, not one call per sample.
    assert result.stats.calls <= 8
    assert stub.stats["requests"] == result.stats.calls


def test_every_fault_at_once_still_gives_exactly_n(registry, stub):
    stub.set_behaviour(
        StubBehaviour(
            seed=11,
            rate_limit_rate=0.2,
            retry_after_seconds=0.05,
            server_error_rate=0.1,
            malformed_rate=0.1,
            fenced_rate=0.15,
            prose_rate=0.15,
            duplicate_rate=0.2,
            near_duplicate_rate=0.15,
            non_object_rate=0.05,
        )
    )
    result = expand(registry, n=60)

    assert_delivered(result, 60)
    assert_counts_add_up(result)
    rejected = result.stats.rejected
    # Near copies of earlier samples are near duplicates; of a prompt's seeds, seed copies.
    assert rejected["duplicate"] > 0 and rejected["near_duplicate"] + rejected["seed_copy"] > 0
    # Each failed attempt is counted under what the provider answered.
    statuses = stub.stats["by_status"]
    assert rejected["rate_limited"] + rejected["server_error"] > 0
    assert rejected["rate_limited"] <= statuses.get("429", 0)
    assert rejected["server_error"] <= statuses.get("500", 0)
    assert rejected["invalid"] > 0


@pytest.mark.parametrize("per_reply", ["too_many", "too_few"])
def test_replies_with_the_wrong_number_of_samples(registry, stub, per_reply):
    stub.set_behaviour(StubBehaviour(seed=3, samples_per_reply=per_reply))
    result = expand(registry, n=17)

    assert_delivered(result, 17)
    assert_counts_add_up(result)
    if per_reply == "too_many":
        assert result.stats.rejected["surplus"] > 0


def test_replies_without_schema_support_are_parsed_from_prose_and_fences(stub, tmp_path):
    """A provider without a JSON-schema mode (structured_output "none") sees the shape only
    in the prompt; fenced and chatty replies are still read."""
    stub.set_behaviour(StubBehaviour(seed=5, fenced_rate=0.4, prose_rate=0.4, wrap="array"))
    settings = Settings(
        home=tmp_path,
        providers={
            "plain": {"type": "openai", "base_url": stub.base_url, "structured_output": "none"}
        },
    )
    result = expand(ProviderRegistry(settings, load_plugins=False), n=15, model="plain/any-model")

    assert_delivered(result, 15)
    assert all("response_format" not in call for call in stub.stats["calls"])


def test_rate_limits_slow_the_run_down_and_retry_after_is_honoured(registry, stub):
    stub.set_behaviour(StubBehaviour(seed=2, rate_limit_rate=0.5, retry_after_seconds=0.3))
    started = time.monotonic()
    result = expand(registry, n=30, samples_per_call=5, concurrency=4)

    assert_delivered(result, 30)
    retries = result.stats.rejected["rate_limited"]
    assert retries > 0
    # Every rate-limited call waited at least the Retry-After before its retry.
    assert time.monotonic() - started >= 0.3
    assert stub.stats["max_in_flight"] <= 4


def test_a_call_waiting_out_its_retry_after_gives_its_slot_to_the_next_call():
    """One slot; the first call is told to come back later. Meanwhile the next planned
    calls take the slot, and the first call's retry comes last."""
    seeds = [{"q": "How do bees make honey?"}]
    questions = iter(f"Question number {n} about the desert?" for n in range(1, 99))

    def two_samples(_request) -> str:
        return json.dumps({"samples": [{"q": next(questions)}, {"q": next(questions)}]})

    provider = CannedProvider(
        [RateLimited("canned", "m", "slow down", retry_after=2), *[two_samples] * 3],
        max_concurrency=1,
    )
    result = asyncio.run(
        seedbed.aexpand(
            seeds,
            6,
            registry=_registry_with(provider),
            model="canned/m",
            samples_per_call=2,
            plan_topics=False,
        )
    )

    assert_delivered(result, 6, seeds=seeds)
    first, *others = provider.requests
    assert len(others) == 3
    assert others[0] != first and others[1] != first  # new calls, during the wait
    assert others[2] == first  # the retry, once its Retry-After had passed


class _FirstCallGoesWrong:
    """Its first call (and the repair of it) answers at once with a sample in the wrong
    shape; every other call answers well, a little later."""

    name = "first-wrong"
    max_concurrency = 4
    supports_json_schema = False

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: CompletionRequest) -> Completion:
        self.calls += 1
        if self.calls == 1 or len(request.messages) > 2:  # the first call, or its repair
            return Completion('{"samples": [{"wrong": 1}]}', Usage(10, 5))
        await asyncio.sleep(0.2)
        return Completion(json.dumps({"samples": [{"q": f"Question {self.calls}?"}]}), Usage(10, 5))


class _SlowSink(KeepingSink):
    """A sink that reads other workers' samples off the loop, as a job's does."""

    async def news(self):
        await asyncio.sleep(0.5)
        return ()


def test_replies_that_arrive_while_a_bad_one_is_judged_are_judged_before_giving_up():
    """The first reply judged is in the wrong shape; while the sink is consulted, the
    good replies arrive. The run judges them instead of ending as futile."""
    provider = _FirstCallGoesWrong()
    registry = _registry_with(provider)
    factory = GenerationFactory(registry)
    spec = factory.spec(3, model=f"{provider.name}/m", samples_per_call=1, concurrency=4)
    run = factory.run([{"q": "How do bees make honey?"}], spec, sink=_SlowSink())

    result = asyncio.run(run.run())

    assert result.stop_reason == COMPLETED, result.detail
    assert len(result.items) == 3


def test_a_provider_that_is_down_ends_the_run_with_the_reason(registry, stub):
    stub.set_behaviour(StubBehaviour(server_error_rate=1.0))
    result = expand(
        registry, n=5, breaker_threshold=3, breaker_cooldown_seconds=0.01, max_retries=2
    )

    assert result.stop_reason == PROVIDER_UNAVAILABLE
    assert result.items == []
    assert "0 of 5" in result.detail and "kept failing" in result.detail
    assert_counts_add_up(result)


def test_slow_calls_time_out_and_are_counted_as_timeouts(registry, stub):
    stub.set_behaviour(StubBehaviour(latency_ms=600))
    result = expand(
        registry,
        n=3,
        call_timeout_seconds=0.1,
        breaker_threshold=2,
        breaker_cooldown_seconds=0.01,
        max_retries=1,
    )

    assert result.stop_reason == PROVIDER_UNAVAILABLE
    assert "timed out" in result.detail
    assert result.stats.rejected["timeout"] >= 2


def test_budgets_stop_cleanly_with_what_was_made(registry, stub):
    by_calls = expand(registry, n=50, budget=Budget(max_calls=2))
    assert by_calls.stop_reason == BUDGET_EXHAUSTED
    assert 0 < len(by_calls.items) <= 10
    assert "max_calls=2" in by_calls.detail
    assert stub.stats["requests"] == 2

    # A few calls' worth at gpt-4o-mini's prices; 50 samples would take about 13 calls,
    # all of which fit in flight at once: the calls in flight count against the budget.
    by_cost = expand(registry, n=50, budget=Budget(max_cost=0.0006))
    assert by_cost.stop_reason == BUDGET_EXHAUSTED
    assert 0 < len(by_cost.items) < 50
    assert by_cost.stats.cost <= 0.0006
    assert "max_cost=0.0006" in by_cost.detail

    by_tokens = expand(registry, n=50, budget=Budget(max_tokens=2000))
    assert by_tokens.stop_reason == BUDGET_EXHAUSTED
    assert 0 < by_tokens.stats.usage.total_tokens <= 2000
    assert len(by_tokens.items) < 50


@pytest.mark.parametrize("concurrency", [1, None])
def test_the_response_cache_replays_a_rerun_without_paying(registry, stub, concurrency):
    cache = MemoryResponseCache()
    first = expand(registry, n=12, cache=cache, concurrency=concurrency, random_seed=7)
    paid = stub.stats["requests"]
    second = expand(registry, n=12, cache=cache, concurrency=concurrency, random_seed=7)

    assert stub.stats["requests"] == paid
    assert second.stats.calls == 0 and second.stats.cached_calls > 0
    assert len(second.items) == 12
    assert all(sample.provenance.cached for sample in second.samples)
    if concurrency == 1:
        # One call at a time, replies are judged in the same order on the re-run. With
        # several, the first run took samples in the order replies happened to arrive,
        # and a reply that was surplus then may be chosen on the re-run instead.
        assert sorted(map(json.dumps, second.items)) == sorted(map(json.dumps, first.items))


def test_a_new_run_without_a_seed_asks_fresh_questions_instead_of_replaying(registry, stub):
    cache = MemoryResponseCache()
    first = expand(registry, n=6, cache=cache)
    paid = stub.stats["requests"]
    second = expand(registry, n=6, cache=cache)

    assert second.stats.cached_calls == 0
    assert stub.stats["requests"] > paid
    assert not set(map(json.dumps, second.items)) & set(map(json.dumps, first.items))


def test_samples_already_in_the_dataset_are_not_generated_again():
    existing = [
        {"question": f"Existing question number {n} about rivers", "answer": f"A{n}"}
        for n in range(3)
    ]
    fresh = itertools.count()

    def reply(request):
        new = [
            {"question": f"Brand new {next(fresh)} topic {word}", "answer": "x"}
            for word in ("zebra", "quartz")
        ]
        return json.dumps({"samples": [existing[0], existing[1], *new]})

    provider = CannedProvider([reply] * 10, max_concurrency=1)
    seeds = [{"question": "Seed question about mountains", "answer": "Seed"}]
    result = asyncio.run(
        seedbed.aexpand(
            seeds,
            4,
            registry=_registry_with(provider),
            model="canned/m",
            existing=existing,
            samples_per_call=4,
        )
    )

    assert_delivered(result, 4, seeds=seeds, existing=existing)
    assert result.stats.rejected["duplicate"] >= 2


def test_a_custom_prompt_that_yields_non_objects_fails_clearly():
    provider = CannedProvider(['{"samples": ["Paris", "Rome", "Madrid"]}'] * 20, max_concurrency=1)
    result = asyncio.run(
        seedbed.aexpand(
            [{"city": "Lisbon", "country": "Portugal"}],
            5,
            registry=_registry_with(provider),
            model="canned/m",
            custom_prompt="List {count} capital cities.",
        )
    )

    assert result.stop_reason == NO_VALID_SAMPLES
    assert result.items == []
    assert "custom prompt" in result.detail
    assert result.stats.rejected["invalid"] > 0
    assert len(provider.requests) <= 6  # it gives up instead of burning calls
    # The model was shown why its first reply was rejected.
    assert "must be a JSON object" in provider.requests[1].messages[-1].content


def test_unreadable_replies_are_repaired_by_asking_again():
    provider = CannedProvider(
        [
            "I am sorry, I cannot help with JSON today.",
            '{"samples": [{"q": "What grows in the desert at night?"}, {"q": "Why do owls hoot in winter?"}]}',
        ],
        max_concurrency=1,
    )
    result = asyncio.run(
        seedbed.aexpand(
            [{"q": "How do bees make honey?"}],
            2,
            registry=_registry_with(provider),
            model="canned/m",
            samples_per_call=2,
            plan_topics=False,
        )
    )

    assert_delivered(result, 2, seeds=[{"q": "How do bees make honey?"}])
    assert result.stats.rejected["unparseable"] == 1
    assert all(sample.provenance.attempt == 2 for sample in result.samples)
    assert "no JSON found" in provider.requests[1].messages[-1].content


def test_data_types_split_the_count_and_reach_the_prompt(registry, stub):
    kinds = ("General Query", "Prompt Injection", "Off-Topic Query")
    result = expand(registry, n=10, data_types=kinds)

    assert_delivered(result, 10)
    made = [sample.provenance.data_type for sample in result.samples]
    assert sorted(made.count(kind) for kind in kinds) == [3, 3, 4]
    prompts = " ".join(call["messages"][-1]["content"] for call in stub.stats["calls"])
    assert "ignore previous instructions" in prompts


def test_provenance_and_cost_are_recorded_per_sample(registry):
    seeds = [SeedItem(seed, id=f"seed-{n}") for n, seed in enumerate(SEEDS)]
    # Without the topics planned first: that call's cost is the run's, not a sample's.
    result = expand(registry, n=6, seeds=seeds, plan_topics=False)

    assert result.stop_reason == COMPLETED
    first = result.samples[0].provenance
    assert first.model == "openai/gpt-4o-mini" and first.provider == "openai"
    assert set(first.seed_item_ids) <= {f"seed-{n}" for n in range(5)} and first.seed_item_ids
    assert len(first.prompt_hash) == 16 and first.attempt == 1
    assert first.prompt_tokens > 0 and first.completion_tokens > 0 and first.cost > 0
    total = sum(sample.provenance.cost for sample in result.samples)
    assert total == pytest.approx(result.stats.cost, rel=0.5)
    assert not result.stats.unpriced


def test_calls_rotate_through_the_seeds(registry, stub):
    expand(registry, n=40, examples_per_call=2)
    shown = [call["messages"][-1]["content"] for call in stub.stats["calls"]]
    for seed in SEEDS:
        assert any(seed["question"] in prompt for prompt in shown)
    assert len(set(shown)) == len(shown)


def test_anthropic_provider_through_its_own_protocol(registry, stub):
    stub.set_behaviour(
        StubBehaviour(seed=4, rate_limit_rate=0.2, retry_after_seconds=0.05, fenced_rate=0.3)
    )
    result = expand(registry, n=12, model="claude-haiku-4-5")

    assert_delivered(result, 12)
    assert result.samples[0].provenance.model == "anthropic/claude-haiku-4-5"
    assert result.stats.cost > 0


@pytest.mark.parametrize(
    ("seeds", "n", "message"),
    [
        ([], 5, "at least one seed"),
        (["just a string"], 5, "seed 0 is not an object"),
        ([{"a": 1}, 3], 5, "seed 1 is not an object"),
        ([{}], 5, "empty object"),
        ({"a": 1}, 5, "list of objects"),
        (SEEDS, 0, "at least 1"),
        (SEEDS, -3, "at least 1"),
    ],
)
def test_bad_input_is_refused_before_any_call(registry, stub, seeds, n, message):
    with pytest.raises(InvalidInput, match=message):
        expand(registry, n=n, seeds=seeds)
    assert stub.stats["requests"] == 0


def test_unknown_data_types_are_refused(registry):
    with pytest.raises(InvalidInput, match="unknown data type"):
        expand(registry, data_types=["Haiku Query"])


def test_missing_key_and_unknown_model_name_the_provider_and_model(tmp_path, registry):
    keyless = ProviderRegistry(Settings(home=tmp_path), load_plugins=False)
    with pytest.raises(
        ProviderNotConfigured, match="openai/gpt-4o-mini: no API key: set OPENAI_API_KEY"
    ):
        expand(keyless, model="gpt-4o-mini")
    with pytest.raises(UnknownModel, match="gemini-pro: no configured provider"):
        expand(registry, model="gemini-pro")


def _registry_with(provider) -> ProviderRegistry:
    registry = ProviderRegistry(Settings(), load_plugins=False)
    registry.add_provider(provider.name, provider)
    return registry
