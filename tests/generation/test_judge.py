"""Each rule of the judge, against a fake LLM told to make exactly that mistake: the run
still delivers exactly N, none of the delivered samples has the flaw, and the account
names the rule that refused the spoilt ones."""

import asyncio
import json
import re

import pytest

import seedbed
from seedbed.domain.errors import InvalidInput
from seedbed.generation.dedup import NearDuplicateFilter, sample_text
from seedbed.generation.placeholders import placeholders_in
from seedbed.generation.result import COMPLETED
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour
from seedbed.testing.canned_provider import CannedProvider
from tests.stub_calls import sample_calls

SUPPORT = [
    {
        "input": "My parcel has not arrived after ten days, what can I do?",
        "expected_output": "Sorry about the delay. Send us your order number and we will"
        " open a trace with the courier and refund the shipping if it is lost.",
        "category": "shipping",
    },
    {
        "input": "Why was I charged twice for my March invoice?",
        "expected_output": "A duplicate charge is usually a pending authorisation that"
        " disappears within three days; if it stays, we refund it at once.",
        "category": "billing",
    },
    {
        "input": "How do I change the email address on my account?",
        "expected_output": "Open Settings, then Profile, enter the new address and confirm"
        " it from the message we send to your inbox.",
        "category": "account",
    },
    {
        "input": "Can I return shoes I have worn once indoors?",
        "expected_output": "Yes, unworn-looking items can be returned within thirty days;"
        " print the label from your orders page and drop the box at any post office.",
        "category": "returns",
    },
    {
        "input": "The app crashes when I open my order history.",
        "expected_output": "Please update the app to the newest version; if it still"
        " crashes, reinstall it, your orders are kept on our side.",
        "category": "technical",
    },
    {
        "input": "Do you ship to Norway and how long does it take?",
        "expected_output": "We ship to Norway with tracked delivery in five to eight"
        " working days; customs fees are paid by the receiver.",
        "category": "shipping",
    },
    {
        "input": "I was billed after cancelling my subscription.",
        "expected_output": "Charges made after a cancellation are refunded in full; we"
        " have cancelled the renewal and the money is back within a week.",
        "category": "billing",
    },
    {
        "input": "The discount code WINTER10 is not accepted at checkout.",
        "expected_output": "That code ended on the last day of February; here is a new"
        " code for ten percent off that works until the end of the month.",
        "category": "billing",
    },
]
CATEGORIES = {"shipping", "billing", "account", "returns", "technical"}


def expand(registry, n, seeds=SUPPORT, **options):
    return seedbed.expand(seeds, n, model="openai/gpt-4o-mini", registry=registry, **options)


def test_labels_stay_inside_the_seeds_closed_set(registry, stub):
    stub.set_behaviour(StubBehaviour(seed=3, out_of_set_rate=0.4))
    result = expand(registry, 20)

    assert result.stop_reason == COMPLETED and len(result.items) == 20
    assert {item["category"] for item in result.items} <= CATEGORIES
    assert result.stats.rejected["out_of_set"] > 0
    coverage = result.report["closed_sets"]["category"]
    assert coverage["inside_share"] == 1.0 and coverage["outside"] == {}
    # The provider is told the set: each sample's schema names one of the seeds' labels.
    schema = sample_calls(stub)[0]["response_format"]["json_schema"]["schema"]
    for slot in schema["properties"]["samples"]["prefixItems"]:
        assert len(slot["properties"]["category"]["enum"]) == 1
        assert set(slot["properties"]["category"]["enum"]) <= CATEGORIES


def test_a_short_run_covers_every_label_and_each_sample_writes_its_label_first(registry, stub):
    result = expand(registry, 10, samples_per_call=5)

    assert result.stop_reason == COMPLETED and len(result.items) == 10
    # The topics, then two calls of five samples, five labels: every label, twice.
    assert result.stats.calls == 3
    assert sorted(item["category"] for item in result.items) == sorted([*CATEGORIES] * 2)
    for call in sample_calls(stub):
        slots = call["response_format"]["json_schema"]["schema"]["properties"]["samples"]
        labels = [slot["properties"]["category"]["enum"][0] for slot in slots["prefixItems"]]
        assert sorted(labels) == sorted(CATEGORIES)
        # A constrained model writes keys in the schema's order: what the sample is about
        # and its label, before the text.
        keys = [list(slot["properties"])[:3] for slot in slots["prefixItems"]]
        assert keys == [["about", "category", "input"]] * 5
        topics = [slot["properties"]["about"]["const"] for slot in slots["prefixItems"]]
        # The prompt names them in the same order.
        prompt = call["messages"][-1]["content"]
        named = re.findall(r'\(\d\) category = "(\w+)", about ([^;]+);', prompt)
        assert named == list(zip(labels, topics, strict=True))
    # Delivered in the seeds' key order all the same, without the topic the model wrote.
    assert all(list(item) == ["input", "expected_output", "category"] for item in result.items)


def test_a_field_may_be_opened_to_new_values(registry, stub):
    stub.set_behaviour(StubBehaviour(seed=3, out_of_set_rate=0.4))
    result = expand(registry, 15, allow_new_values=["category"])

    assert result.stop_reason == COMPLETED
    assert result.stats.rejected["out_of_set"] == 0
    assert {item["category"] for item in result.items} - CATEGORIES


def test_one_answer_template_reused_under_other_questions_is_refused(registry, stub):
    stub.set_behaviour(StubBehaviour(seed=5, template_rate=0.4))
    result = expand(registry, 20)

    assert result.stop_reason == COMPLETED and len(result.items) == 20
    assert result.stats.rejected["templated"] > 0
    answers = NearDuplicateFilter()
    for seed in SUPPORT:
        answers.add(seed["expected_output"])
    for item in result.items:
        assert answers.add_if_new(item["expected_output"]) is None, item


def test_samples_with_placeholders_are_refused(registry, stub):
    stub.set_behaviour(StubBehaviour(seed=2, placeholder_rate=0.4))
    result = expand(registry, 20)

    assert result.stop_reason == COMPLETED and len(result.items) == 20
    assert result.stats.rejected["placeholder"] > 0
    assert not [item for item in result.items if placeholders_in(json.dumps(item))]


def test_copies_of_a_seed_are_refused_as_seed_copies(registry, stub):
    stub.set_behaviour(StubBehaviour(seed=4, seed_copy_rate=0.4))
    result = expand(registry, 20)

    assert result.stop_reason == COMPLETED and len(result.items) == 20
    assert result.stats.rejected["seed_copy"] > 0
    seeds = NearDuplicateFilter()
    for seed in SUPPORT:
        seeds.add(sample_text(seed))
    assert all(seeds.verdict(sample_text(item)) is None for item in result.items)
    assert all(0 <= sample.quality["nearest_seed_similarity"] < 0.75 for sample in result.samples)


def test_numbers_stay_in_the_seeds_range():
    seeds = [
        {"ticket": "Printer on floor two is jammed again", "priority": 1},
        {"ticket": "The whole office lost its internet connection", "priority": 3},
        {"ticket": "A new laptop is needed for the intern starting Monday", "priority": 2},
    ]
    provider = CannedProvider(
        [
            '{"samples": [{"ticket": "The coffee machine in the lobby leaks water", "priority": 9},'
            ' {"ticket": "Badge reader at the side door rejects every card", "priority": 2}]}'
        ],
        name="canned",
    )
    result = _run(provider, seeds, 1, samples_per_call=2, plan_topics=False)

    assert [item["priority"] for item in result.items] == [2]
    assert result.stats.rejected["out_of_range"] == 1


def test_held_out_items_never_reach_a_prompt_and_close_copies_are_leakage():
    seeds = [
        {"question": "How do I reset my password?", "answer": "Use the reset link."},
        {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."},
    ]
    held_out = [{"question": "How can I export my invoices as PDF?", "answer": "From Billing."}]
    provider = CannedProvider(
        [
            '{"topics": ["an invoice sent to the wrong address"]}',
            '{"samples": [{"question": "How can I export my invoices as PDF?", "answer":'
            ' "From Billing."}, {"question": "Where do I see my order history?",'
            ' "answer": "Under Orders in your profile."}]}',
        ],
        name="canned",
    )
    result = _run(provider, seeds, 1, samples_per_call=2, held_out=held_out)

    assert result.items == [
        {"question": "Where do I see my order history?", "answer": "Under Orders in your profile."}
    ]
    assert result.stats.rejected["leakage"] == 1
    # Not in the call that planned the topics either.
    assert "Example 1" in provider.requests[0].messages[-1].content
    prompts = " ".join(m.content for request in provider.requests for m in request.messages)
    assert "export my invoices" not in prompts


def test_calls_are_spread_over_the_label_axis_and_the_named_axes(registry, stub):
    result = expand(registry, 40, vary={"persona": ["first-time buyer", "small business owner"]})

    assert result.stop_reason == COMPLETED
    axes = result.report["axes"]
    assert set(axes) == {"category", "persona"}
    for axis in axes.values():
        assert all(cell["planned"] > 0 and cell["accepted"] > 0 for cell in axis.values()), axes
    prompts = [json.dumps(call["messages"]) for call in stub.stats["calls"]]
    assert any("first-time buyer" in prompt for prompt in prompts)
    assert any("small business owner" in prompt for prompt in prompts)
    # Each sample is held to its slot's label, in the prompt and in the schema.
    for sample in result.samples:
        assert sample.data["category"] == sample.provenance.axis["category"]


def test_unknown_evolutions_are_refused_before_any_call(registry, stub):
    with pytest.raises(InvalidInput, match="unknown evolution"):
        expand(registry, 5, evolutions=["make_it_spicy"])
    assert stub.stats["requests"] == 0


def test_the_critic_refuses_low_scores_and_its_verdict_stays_with_the_sample():
    seeds = [
        {"review": "The soup was cold and the waiter ignored us.", "sentiment": "negative"},
        {"review": "Lovely cakes and a friendly barista.", "sentiment": "positive"},
        {"review": "Great coffee, but the chairs are hard.", "sentiment": "positive"},
        {"review": "Slow service and a dirty table.", "sentiment": "negative"},
    ]
    writer = CannedProvider(
        [
            '{"samples": [{"review": "I was disappointed with the service.", "sentiment":'
            ' "positive"}, {"review": "The scones were fresh and warm.", "sentiment":'
            ' "positive"}]}'
        ],
        name="canned",
    )

    def score(request):
        candidate = request.messages[-1].content
        wrong = "disappointed" in candidate
        return json.dumps(
            {
                "score": 0.1 if wrong else 0.9,
                "reason": "label contradicts the text" if wrong else "ok",
            }
        )

    critic = CannedProvider([score, score], name="critic")
    result = _run(
        writer,
        seeds,
        1,
        samples_per_call=2,
        critic_model="critic/judge",
        extra=critic,
        plan_topics=False,
    )

    assert [item["review"] for item in result.items] == ["The scones were fresh and warm."]
    assert result.stats.rejected["critic"] == 1
    assert result.samples[0].quality["critic"] == {"score": 0.9, "passed": True, "reason": "ok"}
    assert result.report["critic"]["count"] == 1


def test_every_run_reports_its_quality(registry, stub):
    result = expand(registry, 12)

    report = result.report
    assert report["accepted"] == 12 and report["requested"] == 12
    for side in ("samples", "seeds"):
        assert 0 < report["diversity"][side]["distinct_2"] <= 1
    assert report["nearest_seed_similarity"]["count"] == 12
    assert report["per_sample"]["tokens"] > 0
    assert len(report["worst"]["closest_to_a_seed"]) == 5


def _run(provider, seeds, n, *, extra=None, **options):
    registry = ProviderRegistry(Settings(), load_plugins=False)
    registry.add_provider(provider.name, provider)
    if extra is not None:
        registry.add_provider(extra.name, extra)
    return asyncio.run(
        seedbed.aexpand(seeds, n, registry=registry, model=f"{provider.name}/m", **options)
    )
