"""The engine's pure rules, checked with plain values: the seeds' shape, placeholders,
near-duplicate thresholds, reading replies, backoff, the breaker, adaptive concurrency and
the planner."""

import asyncio
from collections import Counter

import pytest

from seedbed.generation.axes import axis_cells, plan_axes
from seedbed.generation.dedup import NearDuplicateFilter
from seedbed.generation.frames import shared_frames
from seedbed.generation.judge import Judge
from seedbed.generation.parsing import parse_samples
from seedbed.generation.placeholders import PlaceholderCheck, placeholders_in
from seedbed.generation.planner import Planner
from seedbed.generation.resilience import CircuitBreaker, backoff_seconds
from seedbed.generation.schema import infer_item_schema
from seedbed.generation.shape import infer_shape, values_at
from seedbed.generation.spec import GenerationSpec, SeedItem
from seedbed.providers.concurrency import AdaptiveConcurrency

TICKETS = [
    {"text": f"Ticket number {n} about something else entirely", "category": category}
    for n, category in enumerate(
        ["shipping", "billing", "account", "returns", "technical", "shipping", "billing", "billing"]
    )
]


def test_a_repeated_short_label_is_a_closed_set_and_names_are_not():
    shape = infer_shape(
        [{**ticket, "customer": f"Customer {n}"} for n, ticket in enumerate(TICKETS)]
    )

    assert shape.closed_sets == {
        "category": ("account", "billing", "returns", "shipping", "technical")
    }
    assert shape.out_of_set({"category": "laptop"}) == ("category", "laptop")
    assert shape.out_of_set({"category": "billing"}) is None


def test_closed_sets_and_ranges_are_found_inside_nested_objects_and_lists():
    dialogues = [
        {
            "turns": [
                {"role": "user", "text": "Hi, my card was declined."},
                {"role": "assistant", "text": "Sorry to hear that. Which card?"},
            ],
            "meta": {"intent": "payment", "turns": 2},
        },
        {
            "turns": [
                {"role": "user", "text": "Where is my parcel?"},
                {"role": "assistant", "text": "Let me look it up for you."},
                {"role": "user", "text": "Thanks."},
            ],
            "meta": {"intent": "delivery", "turns": 3},
        },
        {
            "turns": [{"role": "user", "text": "Cancel my plan."}],
            "meta": {"intent": "payment", "turns": 1},
        },
    ]
    shape = infer_shape(dialogues)

    assert shape.closed_sets["turns[].role"] == ("assistant", "user")
    assert shape.closed_sets["meta.intent"] == ("delivery", "payment")
    assert (shape.ranges["meta.turns"].low, shape.ranges["meta.turns"].high) == (1, 3)
    assert list(values_at(dialogues[1], "turns[].role")) == ["user", "assistant", "user"]
    assert shape.out_of_set({"turns": [{"role": "system", "text": "x"}]}) == (
        "turns[].role",
        "system",
    )


def test_an_opened_field_is_neither_a_closed_set_nor_a_range():
    shape = infer_shape(TICKETS, open_fields=["category"])
    assert "category" not in shape.closed_sets


def test_long_text_fields_are_the_ones_worth_comparing_alone():
    shape = infer_shape(
        [
            {"q": "Short one?", "a": "A long answer that has well over eight words in it."},
            {"q": "Another?", "a": "Another long answer, also with more than eight words."},
        ]
    )
    assert shape.long_text_fields == ("a",)


@pytest.mark.parametrize(
    "text",
    [
        "Write to [company email] for help",
        "Dear <customer name>, thanks",
        "Call {phone} today",
        "Lorem ipsum dolor sit amet",
        "Your card number is XXXX-XXXX",
        "Order XXX arrived",
        "Contact our team at support@example.com for assistance",
        "See https://www.Example.org/help",
        "Call our customer service at +1-800-123-4567",
        "Reach us on (555) 555-0123",
    ],
)
def test_placeholders_are_found(text):
    assert placeholders_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "Use <b>bold</b> text",
        "The list [1, 2, 3] is sorted",
        "My name is Xavier",
        "Prices start at 10 EUR",
        "Order 81234567 left the warehouse; call 0800 555 12 34 56",
        "Write to help@acme-example.com or see counterexample.com",
    ],
)
def test_ordinary_text_is_not_a_placeholder(text):
    assert not placeholders_in(text)


def test_a_placeholder_the_seeds_use_is_allowed():
    check = PlaceholderCheck(["Hello {name}, your order shipped"])
    assert check.first("Hi {name}, your refund is on its way") is None
    assert check.first("Hi {customer}, your refund") == "{customer}"
    emails = PlaceholderCheck(["Write to billing@example.com"])
    assert emails.first("Write to returns@example.com") is None


def test_near_duplicates_are_decided_by_the_exact_word_jaccard_at_the_threshold():
    seen = NearDuplicateFilter(0.75)
    seen.add("How do I reset my password?")

    assert seen.verdict("how do I reset my password") == "duplicate"
    # 6 of 7 distinct words shared: 0.86
    assert seen.verdict("How do I reset my email password?") == "near_duplicate"
    # 3 of 8: 0.375
    assert seen.verdict("How do I close my account for good") is None
    with pytest.raises(ValueError):
        NearDuplicateFilter(0)


@pytest.mark.parametrize(
    ("reply", "count", "salvaged"),
    [
        ('{"samples": [{"a": 1}, {"a": 2}]}', 2, False),
        ('Here you go:\n```json\n[{"a": 1}]\n```\nEnjoy!', 1, False),
        ('{"samples": [{"a": 1}, {"a": 2}, {"a": ', 2, True),
        ("[{'a': 1,}]", 1, True),
    ],
)
def test_replies_are_read_from_fences_prose_cut_offs_and_near_json(reply, count, salvaged):
    parsed = parse_samples(reply)
    assert len(parsed.samples) == count and parsed.salvaged == salvaged


def test_an_unreadable_reply_says_why():
    parsed = parse_samples("I cannot help with that.")
    assert parsed.samples == [] and "no JSON found" in parsed.error


def test_backoff_honours_retry_after_and_grows_without_it():
    assert 2.0 <= backoff_seconds(1, retry_after=2.0) <= 2.5
    assert all(0 <= backoff_seconds(1, None) <= 0.5 for _ in range(50))
    assert max(backoff_seconds(6, None) for _ in range(200)) > 0.5
    assert all(backoff_seconds(20, None) <= 30 for _ in range(50))


def test_the_breaker_opens_after_the_threshold_and_gives_up_after_its_openings():
    breaker = CircuitBreaker(threshold=2, cooldown_seconds=0.0, max_openings=2)
    breaker.record_failure()
    assert breaker.openings == 0
    breaker.record_failure()
    assert breaker.openings == 1 and not breaker.exhausted
    breaker.record_success()
    assert breaker.openings == 0
    for _ in range(4):
        breaker.record_failure()
    assert breaker.exhausted


def test_rate_limits_cut_concurrency_once_per_cooling_period_and_successes_grow_it():
    async def scenario():
        limit = AdaptiveConcurrency(10, cooling_seconds=60)
        limit.on_rate_limited()
        limit.on_rate_limited()  # the same burst: no second cut
        cut = limit.limit
        for _ in range(20):
            await limit.on_success()
        return cut, limit.limit

    cut, grown = asyncio.run(scenario())
    assert cut == 8 and grown == 10


def _planner(count, **spec_fields):
    seeds = [SeedItem(ticket, f"s{n}") for n, ticket in enumerate(TICKETS)]
    spec = GenerationSpec(count=count, random_seed=3, **spec_fields)
    axes = plan_axes(infer_shape(TICKETS), vary=spec.vary)
    return Planner(seeds, spec, axes, random_seed=3)


def test_the_planner_is_deterministic_and_rotates_every_seed_and_label():
    first, second = _planner(40), _planner(40)
    plans = [first.next_call() for _ in range(8)]
    again = [second.next_call() for _ in range(8)]

    assert [(p.axis, [s.id for s in p.examples], p.temperature) for p in plans] == [
        (p.axis, [s.id for s in p.examples], p.temperature) for p in again
    ]
    shown = [seed.id for plan in plans for seed in plan.examples]
    assert set(shown) == {f"s{n}" for n in range(len(TICKETS))}
    # Labels go to the samples of a call, in a cycle: every label as often as any other.
    labels = Counter(slot["category"] for plan in plans for slot in plan.slots)
    assert set(labels) == {"shipping", "billing", "account", "returns", "technical"}
    assert max(labels.values()) - min(labels.values()) <= 1
    assert all(len(plan.slots) == plan.asked for plan in plans)


def test_a_call_is_shown_seeds_with_its_samples_labels_first():
    planner = _planner(40, samples_per_call=2)
    by_id = {f"s{n}": ticket for n, ticket in enumerate(TICKETS)}
    for _ in range(8):
        plan = planner.next_call()
        labels = list(dict.fromkeys(slot["category"] for slot in plan.slots))
        shown = [by_id[seed.id]["category"] for seed in plan.examples]
        # All but one example (kept for the cycle of all seeds) go to the slots' labels.
        assert shown[: len(shown) - 1] == labels[: len(shown) - 1], (labels, shown)
        assert len({seed.id for seed in plan.examples}) == len(plan.examples)
        assert planner.slot_fields(plan) == [{"category": s["category"]} for s in plan.slots]


def test_few_calls_still_reach_every_value_of_every_axis():
    axes = plan_axes(infer_shape(TICKETS), vary={"persona": ["novice", "expert"]})
    categories = {ticket["category"] for ticket in TICKETS}
    for seed in range(20):
        cells = axis_cells(axes, seed)
        assert {cell["category"] for cell in cells[: len(categories)]} == categories
        assert {cell["persona"] for cell in cells[:2]} == {"novice", "expert"}
        assert len({tuple(sorted(cell.items())) for cell in cells}) == len(cells)


def test_quotas_split_the_count_over_data_types_and_stop_when_covered():
    planner = _planner(7, data_types=("General Query", "Prompt Injection"), samples_per_call=5)
    assert planner.quotas == {"General Query": 4, "Prompt Injection": 3}
    first, second = planner.next_call(), planner.next_call()
    assert {first.data_type, second.data_type} == {"General Query", "Prompt Injection"}
    # Both quotas are covered by the calls in flight: no third call until replies come.
    assert planner.next_call() is None
    planner.settled(first)
    assert planner.next_call() is not None


def test_a_frame_most_samples_share_is_reported_beside_the_seeds_share():
    seeds = [
        {"q": "Where is my parcel from last week?"},
        {"q": "Can I pay with a gift card?"},
    ]
    samples = [
        {"q": "I need to change my address. Can you help me with that?"},
        {"q": "I need to cancel an order. Can you help me with that?"},
        {"q": "I need to update my card. Can you help me with that?"},
        {"q": "Why was I charged twice for one order?"},
    ]

    frames = shared_frames(["q"], seeds, samples)

    assert frames["q"]["opening"] == {"words": "i need to", "share": 0.75, "seeds_share": 0.0}
    assert frames["q"]["closing"] == {"words": "me with that", "share": 0.75, "seeds_share": 0.0}
    assert shared_frames(["q"], seeds, samples[:1]) == {}  # one text has no frame to share


def _dialogue(question: str, reply: str, closing: str = "Thanks!") -> dict:
    return {
        "turns": [
            {"role": "user", "text": question},
            {"role": "assistant", "text": reply},
            {"role": "user", "text": closing},
        ]
    }


def test_one_reply_reused_in_new_dialogues_is_a_template_unless_the_seeds_repeat_it():
    anything_else = "Is there anything else at all I can help you with today?"
    seeds = [
        _dialogue(
            "My order arrived with a cracked screen, what should I do now?",
            "Send us a photo of the screen and we will ship a replacement within two days.",
        ),
        _dialogue(
            "Can I move my delivery to next Tuesday because I am travelling?",
            "Yes, open the order page and pick any day in the next two weeks for delivery.",
            anything_else,
        ),
        _dialogue(
            "Why does my invoice show a fee I never agreed to pay for?",
            "That fee is the express shipping you chose at checkout; we can refund it now.",
            anything_else,
        ),
    ]
    judge = Judge(
        seeds,
        item_schema=infer_item_schema(seeds),
        shape=infer_shape(seeds),
        threshold=0.75,
    )
    reply = "I am sorry, but we cannot refund those payments; please contact our support team."
    first = _dialogue("I was charged twice this month for one subscription, can you help?", reply)
    assert judge.by_rules(first).accepted
    judge.remember(first)

    reused = _dialogue("I want to cancel my plan before the next renewal date comes round.", reply)
    verdict = judge.by_rules(reused)
    assert (verdict.reason, verdict.detail) == (
        "templated",
        "turns[].text repeats another sample's turns[].text",
    )
    # A closing turn the seeds themselves repeat, and a short one, are not templates.
    new = _dialogue(
        "Do you deliver large furniture to the third floor without a lift?",
        "Yes, two of our drivers carry it up for a small fee you see at checkout.",
        anything_else,
    )
    assert judge.by_rules(new).accepted


def test_a_frame_past_a_quarter_of_the_accepted_texts_is_refused_unless_the_seeds_share_it():
    seeds = [
        {"q": "Where is my parcel from last week, it left the depot on Monday?"},
        {"q": "Can I pay for the sofa with two gift cards and a debit card?"},
        {"q": "Please tell me why the invoice for March shows a fee twice."},
        {"q": "Please tell me how long a refund to a credit card takes."},
    ]
    judge = Judge(
        seeds, item_schema=infer_item_schema(seeds), shape=infer_shape(seeds), threshold=0.75
    )
    needs = [
        "I need to change the delivery address of order 5512 to my office",
        "I need to cancel the blue kettle before it leaves your warehouse",
        "I need to update the card that pays for my monthly coffee beans",
    ]
    for text in needs[:2]:
        assert judge.by_rules({"q": text}).accepted
        judge.remember({"q": text})

    verdict = judge.by_rules({"q": needs[2]})
    assert (verdict.reason, verdict.detail) == (
        "templated",
        "q: too many samples share its opening words 'i need to'",
    )
    for number in range(4):
        judge.remember({"q": f"Why did parcel {number} go back to the depot on the {number}th?"})
    # Half of the seeds open "Please tell me": up to half of the samples may too.
    for text in [
        "Please tell me whether the lamp comes with a bulb included",
        "Please tell me if you deliver to the Faroe Islands in winter",
    ]:
        judge.remember({"q": text})
    assert judge.by_rules({"q": "Please tell me what the warranty on blenders covers"}).accepted
    # Still a frame too many at 8 texts; at 9, a quarter leaves room for a third.
    assert not judge.by_rules({"q": needs[2]}).accepted
    judge.remember({"q": "Why is the sofa I ordered in May still not in the depot?"})
    assert judge.by_rules({"q": needs[2]}).accepted
