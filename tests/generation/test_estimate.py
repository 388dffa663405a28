"""The pre-flight estimate: calls, tokens, cost and time worked out by hand for small
specs, and budgets that the estimate says will not suffice."""

import pytest

from seedbed.generation.estimate import estimate_generation
from seedbed.generation.spec import Budget, GenerationSpec

# Rendered compactly, each seed is 56 characters: 14 tokens at 4 characters a token.
SEEDS = [{"question": "x" * 40}, {"question": "y" * 40}]


def spec(**fields) -> GenerationSpec:
    """The generation calls worked out by hand; the topics' call is tested in test_topics.py."""
    return GenerationSpec(plan_topics=False, **fields)


def test_calls_allow_for_rejected_samples_and_repaired_replies():
    # 20 samples at 5 a call, 80% accepted: 5 calls; 5% of them asked again: 1 more.
    estimate = estimate_generation(
        spec(count=20), SEEDS, qualified_model="openai/gpt-4o-mini", concurrency=16
    )
    assert estimate.calls == 6
    # Each reply: 5 samples of 14 tokens and 10 tokens of JSON around them.
    assert estimate.completion_tokens == 6 * 80
    # Five prompts p and one repair prompt p + 80 (the bad reply) + 60 (the request).
    per_call_prompt, remainder = divmod(estimate.prompt_tokens - 80 - 60, 6)
    assert remainder == 0 and 100 < per_call_prompt < 400
    assert estimate.cost == pytest.approx(
        (estimate.prompt_tokens * 0.15 + estimate.completion_tokens * 0.60) / 1e6
    )
    assert estimate.budget_warning is None


def test_the_prompt_grows_with_the_instructions_by_a_token_per_four_characters():
    plain = estimate_generation(
        spec(count=5), SEEDS, qualified_model="openai/gpt-4o-mini", concurrency=1
    )
    instructed = estimate_generation(
        spec(count=5, instructions="z" * 400),
        SEEDS,
        qualified_model="openai/gpt-4o-mini",
        concurrency=1,
    )
    # 2 calls (5 / (5 * 0.8) -> 2) and 1 repair, whose prompt repeats the first.
    assert plain.calls == 3
    extra_per_prompt = (instructed.prompt_tokens - plain.prompt_tokens) / 3
    assert extra_per_prompt == pytest.approx(400 / 4 + len("Additional instructions: ") / 4, abs=2)


def test_the_local_model_is_free_and_slow_and_one_call_at_a_time():
    estimate = estimate_generation(
        spec(count=20),
        SEEDS,
        qualified_model="local/qwen2.5-coder-1.5b-instruct",
        concurrency=1,
    )
    assert estimate.cost == 0.0
    # Six calls one after the other, each writing 80 tokens at 10 tokens a second.
    assert estimate.seconds >= 6 * 8
    assert any("10 tokens/s" in assumption for assumption in estimate.assumptions)


def test_hosted_calls_run_in_parallel():
    one = estimate_generation(
        spec(count=200), SEEDS, qualified_model="openai/gpt-4o-mini", concurrency=1
    )
    many = estimate_generation(
        spec(count=200), SEEDS, qualified_model="openai/gpt-4o-mini", concurrency=16
    )
    assert one.calls == many.calls == 50 + 3
    assert many.seconds == pytest.approx(one.seconds * 4 / 53)  # ceil(53 / 16) = 4 waves


def test_an_unknown_model_has_no_cost_and_max_tokens_caps_each_reply():
    estimate = estimate_generation(
        spec(count=20, max_tokens=50),
        SEEDS,
        qualified_model="acme/house-model",
        concurrency=4,
    )
    assert estimate.cost is None
    assert estimate.completion_tokens == 6 * 50


def test_a_budget_too_small_for_the_estimate_is_named():
    calls = estimate_generation(
        spec(count=20, budget=Budget(max_calls=3)),
        SEEDS,
        qualified_model="openai/gpt-4o-mini",
        concurrency=4,
    )
    assert calls.budget_warning == "about 6 calls are needed; the budget allows 3"
    cost = estimate_generation(
        spec(count=1000, budget=Budget(max_cost=0.0001)),
        SEEDS,
        qualified_model="openai/gpt-4o-mini",
        concurrency=4,
    )
    assert cost.budget_warning is not None and "$0.0001" in cost.budget_warning
