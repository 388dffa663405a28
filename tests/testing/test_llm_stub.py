"""The stub LLM server, driven through the real openai and anthropic SDKs over HTTP."""

import json
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import fields

import anthropic
import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel

from seedbed.testing import StubBehaviour, StubLLMServer
from seedbed.testing.llm_stub import main as stub_main

SYSTEM = "You write evaluation samples as JSON."
EXAMPLES = [
    {
        "question": "What is the capital of France?",
        "answer": "Paris",
        "difficulty": 2,
        "multi_hop": False,
    },
    {
        "question": "Who wrote Hamlet?",
        "answer": "William Shakespeare",
        "difficulty": 1,
        "multi_hop": False,
    },
]
EXAMPLE_PROMPT = "Here are two examples:\n{}\n{}\nWrite 5 new samples.".format(
    *map(json.dumps, EXAMPLES)
)

SAMPLE_SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 20},
        "answer": {"type": "string"},
        "difficulty": {"type": "integer", "minimum": 1, "maximum": 5},
        "category": {"enum": ["math", "history", "science"]},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "source": {"anyOf": [{"type": "string", "format": "uri"}, {"type": "null"}]},
        "meta": {
            "type": "object",
            "properties": {"lang": {"type": ["string", "null"]}, "reviewed": {"type": "boolean"}},
            "required": ["lang", "reviewed"],
            "additionalProperties": False,
        },
    },
    "required": ["question", "answer", "difficulty", "category", "score", "tags", "source", "meta"],
    "additionalProperties": False,
}


def batch_schema(min_items: int | None = 4, max_items: int | None = 4) -> dict:
    array = {"type": "array", "items": {"$ref": "#/$defs/Sample"}}
    array |= {"minItems": min_items} if min_items is not None else {}
    array |= {"maxItems": max_items} if max_items is not None else {}
    return {
        "type": "object",
        "properties": {"samples": array},
        "required": ["samples"],
        "additionalProperties": False,
        "$defs": {"Sample": SAMPLE_SCHEMA},
    }


def schema_format(schema: dict) -> dict:
    return {
        "type": "json_schema",
        "json_schema": {"name": "batch", "schema": schema, "strict": True},
    }


@pytest.fixture
def stub():
    with StubLLMServer() as server:
        yield server


@pytest.fixture
def client(stub):
    return openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0)


@pytest.fixture
def claude(stub):
    # The anthropic SDK appends /v1/messages itself, so it takes the server's root.
    return anthropic.Anthropic(
        base_url=stub.base_url.removesuffix("/v1"), api_key="test", max_retries=0
    )


def ask(client, prompt: str = EXAMPLE_PROMPT, **options):
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
    return client.chat.completions.create(model="stub-model", messages=messages, **options)


def samples_of(completion) -> list:
    return json.loads(completion.choices[0].message.content)["samples"]


def word_trigrams(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return set(zip(words, words[1:], words[2:], strict=False))


def one_small_change(original: str, changed: str) -> bool:
    """True when the strings differ by one word, or only by case or trailing punctuation."""
    if original.lower().rstrip(".!?") == changed.lower().rstrip(".!?"):
        return True
    before, after = original.split(" "), changed.split(" ")
    return (
        len(before) == len(after) and sum(a != b for a, b in zip(before, after, strict=True)) == 1
    )


def does_not_parse(content: str) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return True
    return False


def readable_json(content: str):
    """What a tolerant client reads out of a reply: the JSON, out of fences or prose too."""
    try:
        return json.loads(content)
    except ValueError:
        return json.loads(content[content.index("{") : content.rindex("}") + 1])


# --- what the samples look like ------------------------------------------------------


def test_schema_driven_replies_validate_and_hold_the_samples_the_schema_asks_for(client):
    replies = [
        ask(client, "Write samples.", response_format=schema_format(batch_schema()))
        for _ in range(3)
    ]
    batches = [json.loads(reply.choices[0].message.content) for reply in replies]
    for batch in batches:
        jsonschema.validate(batch, batch_schema())
        assert len(batch["samples"]) == 4
    questions = [sample["question"] for batch in batches for sample in batch["samples"]]
    assert len(set(questions)) == len(questions)
    # Distinct for near-duplicate filters too: any two questions share few word trigrams.
    trigrams = [word_trigrams(question) for question in questions]
    overlaps = [len(a & b) / len(a | b) for i, a in enumerate(trigrams) for b in trigrams[i + 1 :]]
    assert max(overlaps) < 0.2


@pytest.mark.parametrize(
    "prompt, expected", [("Write 7 samples.", 7), ("Write 20 samples.", 10), ("Go.", 2)]
)
def test_the_prompts_count_is_kept_within_min_and_max_items(client, prompt, expected):
    reply = ask(
        client, prompt, response_format=schema_format(batch_schema(min_items=2, max_items=10))
    )
    assert len(samples_of(reply)) == expected


def test_a_pydantic_response_format_parses_into_the_model(client):
    class Sample(BaseModel):
        question: str
        answer: str
        difficulty: int
        meta: dict[str, str] | None

    class Batch(BaseModel):
        samples: list[Sample]

    messages = [{"role": "user", "content": "Write 3 unique samples."}]
    reply = client.chat.completions.parse(
        model="stub-model", messages=messages, response_format=Batch
    )
    assert len(reply.choices[0].message.parsed.samples) == 3


def test_without_a_schema_samples_copy_the_keys_and_types_of_the_prompts_examples(client):
    samples = samples_of(ask(client))
    assert len(samples) == 5
    for sample in samples:
        assert sample.keys() == EXAMPLES[0].keys()
        assert [type(value) for value in sample.values()] == [str, str, int, bool]
        assert sample not in EXAMPLES


def test_wrap_array_answers_a_bare_list_and_one_sample_when_no_count_is_asked(stub, client):
    stub.set_behaviour(StubBehaviour(wrap="array"))
    assert len(json.loads(ask(client).choices[0].message.content)) == 5
    [sample] = json.loads(
        ask(client, "Like this: " + json.dumps(EXAMPLES[0])).choices[0].message.content
    )
    assert sample.keys() == EXAMPLES[0].keys()


@pytest.mark.parametrize(
    "samples_per_reply, expected", [("as_asked", 4), ("too_many", 6), ("too_few", 2)]
)
@pytest.mark.parametrize("shaped_by", ["prompt", "schema"])
def test_samples_per_reply_misses_the_asked_count_on_purpose(
    stub, client, samples_per_reply, expected, shaped_by
):
    stub.set_behaviour(StubBehaviour(samples_per_reply=samples_per_reply))
    if shaped_by == "schema":
        reply = ask(client, "Write samples.", response_format=schema_format(batch_schema()))
    else:
        reply = ask(client, EXAMPLE_PROMPT.replace("5 new", "4 new"))
    assert len(samples_of(reply)) == expected


def test_the_asked_count_is_read_in_other_tools_phrasing_not_from_worked_examples(client):
    """DeepEval's prompts ask for "data points" below a worked example with its own count."""
    prompt = (
        "Example context: the sky\nExample max goldens per context: 2\nExample JSON: {}\n\n"
        "You MUST TRY to generate 7 data points, unless the `input` is getting repetitive.\n"
        "Like this: " + json.dumps(EXAMPLES[0])
    )

    assert len(samples_of(ask(client, prompt))) == 7
    # What is asked for counts, not what is shown.
    shown_three = (
        "Here are 3 examples from the dataset:\n"
        + json.dumps(EXAMPLES[0])
        + "\nWrite 5 new examples."
    )
    assert len(samples_of(ask(client, shown_three))) == 5


def test_n_gives_independent_choices(stub, client):
    reply = ask(client, n=3)
    contents = [choice.message.content for choice in reply.choices]
    assert len(contents) == 3 and len(set(contents)) == 3
    assert stub.stats["samples_returned"] == 15


def test_max_tokens_cuts_the_content_and_reports_length(stub, client):
    reply = ask(client, max_tokens=20)
    [choice] = reply.choices
    assert choice.finish_reason == "length"
    assert len(choice.message.content) == 80
    assert does_not_parse(choice.message.content)
    assert stub.stats["truncated"] == 1
    assert stub.stats["samples_returned"] == 0


# --- injected duplicates and bad samples ---------------------------------------------


def test_duplicate_rate_one_returns_copies_of_earlier_samples_or_examples(stub, client):
    earlier = samples_of(ask(client))
    stub.set_behaviour(StubBehaviour(duplicate_rate=1.0))
    copies = samples_of(ask(client))
    assert len(copies) == 5
    assert all(sample in earlier + EXAMPLES for sample in copies)
    assert stub.stats["duplicates_injected"] == 5


def test_near_duplicate_rate_one_changes_one_field_of_an_earlier_sample_a_little(stub, client):
    earlier = samples_of(ask(client))
    stub.set_behaviour(StubBehaviour(near_duplicate_rate=1.0, seed=5))
    candidates = earlier + EXAMPLES
    for sample in samples_of(ask(client)):
        assert sample not in candidates
        # The original may be an earlier sample of this very reply.
        [original, *_] = [c for c in candidates if sum(c[key] != sample[key] for key in c) == 1]
        [key] = [key for key in original if original[key] != sample[key]]
        assert one_small_change(original[key], sample[key])
        candidates.append(sample)
    assert stub.stats["near_duplicates_injected"] == 5


def test_non_object_rate_one_returns_bare_strings_and_numbers(stub, client):
    stub.set_behaviour(StubBehaviour(non_object_rate=1.0))
    assert all(isinstance(sample, str | int) for sample in samples_of(ask(client)))


# --- faults -------------------------------------------------------------------------


def test_rate_limits_answer_429_with_retry_after_and_the_sdk_raises_rate_limit_error(stub, client):
    stub.set_behaviour(StubBehaviour(rate_limit_rate=1.0, retry_after_seconds=1.5))
    for _ in range(3):
        with pytest.raises(openai.RateLimitError) as raised:
            ask(client)
        assert raised.value.response.headers["retry-after"] == "1.5"
        assert raised.value.body == {
            "message": raised.value.body["message"],
            "type": "rate_limit_error",
            "code": "rate_limit_exceeded",
            "param": None,
        }
    assert stub.stats["by_status"] == {"429": 3}


def test_server_error_rate_one_answers_500_every_time(stub, client):
    stub.set_behaviour(StubBehaviour(server_error_rate=1.0))
    for _ in range(3):
        with pytest.raises(openai.InternalServerError) as raised:
            ask(client)
        assert raised.value.status_code == 500
        assert raised.value.body["type"] == "server_error"


@pytest.mark.parametrize(
    "behaviour, looks_right",
    [
        (StubBehaviour(malformed_rate=1.0), does_not_parse),
        (
            StubBehaviour(fenced_rate=1.0),
            lambda content: content.startswith("```json\n") and content.endswith("\n```"),
        ),
        (
            StubBehaviour(prose_rate=1.0),
            lambda content: not content.startswith("{") and readable_json(content),
        ),
    ],
    ids=["malformed", "fenced", "prose"],
)
def test_a_content_fault_at_rate_one_shapes_every_reply(stub, client, behaviour, looks_right):
    stub.set_behaviour(behaviour)
    for _ in range(5):
        reply = ask(client)
        assert reply.choices[0].finish_reason == "stop"
        assert looks_right(reply.choices[0].message.content)


def test_fault_rate_spreads_over_429_500_and_malformed_json(stub, client):
    stub.set_behaviour(StubBehaviour(fault_rate=1.0, seed=11))
    seen = set()
    for _ in range(24):
        try:
            content = ask(client).choices[0].message.content
        except openai.APIStatusError as error:
            seen.add(error.status_code)
        else:
            assert does_not_parse(content)
            seen.add("malformed")
    assert seen == {429, 500, "malformed"}


# --- time ---------------------------------------------------------------------------


def test_latency_is_waited_before_the_answer(stub, client):
    stub.set_behaviour(StubBehaviour(latency_ms=150))
    started = time.perf_counter()
    ask(client)
    assert time.perf_counter() - started >= 0.15


def test_concurrent_requests_overlap(stub, client):
    stub.set_behaviour(StubBehaviour(latency_ms=200))
    start_together = threading.Barrier(5)

    def one_call():
        start_together.wait()
        ask(client)

    threads = [threading.Thread(target=one_call) for _ in range(5)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.perf_counter() - started < 0.6  # five in a row would take 1 s
    assert stub.stats["max_in_flight"] > 1


# --- stats --------------------------------------------------------------------------


def test_stats_add_up_to_what_the_client_saw(stub, client):
    stub.set_behaviour(
        StubBehaviour(fault_rate=0.3, fenced_rate=0.2, prose_rate=0.2, duplicate_rate=0.3, seed=3)
    )
    statuses, kinds, samples, prompt_tokens, completion_tokens = {}, {}, 0, 0, 0
    for seed in range(30):
        try:
            reply = ask(client, seed=seed)
        except openai.APIStatusError as error:
            statuses[str(error.status_code)] = statuses.get(str(error.status_code), 0) + 1
            kind = "rate_limited" if error.status_code == 429 else "server_error"
        else:
            statuses["200"] = statuses.get("200", 0) + 1
            content = reply.choices[0].message.content
            prompt_tokens += reply.usage.prompt_tokens
            completion_tokens += reply.usage.completion_tokens
            try:
                samples += len(readable_json(content)["samples"])
                kind = (
                    "fenced"
                    if content.startswith("```")
                    else "prose"
                    if content[0] != "{"
                    else "ok"
                )
            except ValueError:
                kind = "malformed"
        kinds[kind] = kinds.get(kind, 0) + 1

    stats = stub.stats
    assert stats["requests"] == 30 == sum(stats["by_status"].values())
    assert stats["by_status"] == statuses
    assert {kind: count for kind, count in stats["by_kind"].items() if count} == kinds
    assert len(kinds) == 6  # the seed makes every kind show up
    assert stats["samples_returned"] == samples
    assert 0 < stats["duplicates_injected"] < samples
    assert (stats["prompt_tokens"], stats["completion_tokens"]) == (
        prompt_tokens,
        completion_tokens,
    )
    assert [call["seed"] for call in stats["calls"]] == list(range(30))
    assert stats["max_in_flight"] == 1 and stats["in_flight"] == 0


def test_stats_are_served_over_http_and_reset(stub, client):
    ask(client)
    assert httpx.get(f"{stub.url}/stats").json()["requests"] == 1
    reset = httpx.post(f"{stub.url}/stats/reset")
    assert reset.status_code == 200 and reset.json()["requests"] == 0
    assert stub.stats["requests"] == 0 and stub.stats["calls"] == []


def test_same_seed_and_request_order_give_the_same_replies():
    behaviour = StubBehaviour(fault_rate=0.3, duplicate_rate=0.3, near_duplicate_rate=0.3, seed=42)
    request = {"messages": [{"role": "user", "content": EXAMPLE_PROMPT}]}

    def replies() -> list[tuple[int, object]]:
        with StubLLMServer(behaviour) as server, httpx.Client(base_url=server.base_url) as http:
            answers = [http.post("/chat/completions", json=request) for _ in range(10)]
        return [
            (answer.status_code, answer.json().get("choices") or answer.json())
            for answer in answers
        ]

    first = replies()
    assert first == replies()
    assert len({status for status, _ in first}) > 1  # the faults were drawn too


# --- the rest of the protocol surface -----------------------------------------------


def test_models_are_listed_and_unknown_paths_answer_404_json(stub, client, claude):
    assert [model.id for model in client.models.list()] == ["stub-model"]
    assert [model.id for model in claude.models.list()] == ["stub-model"]
    missing = httpx.get(f"{stub.base_url}/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_a_body_that_is_not_a_json_object_is_a_400_and_is_counted(stub):
    answer = httpx.post(f"{stub.base_url}/chat/completions", content=b"not json")
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert stub.stats["by_status"] == {"400": 1}


def test_anthropic_messages_answers_in_anthropics_shape(claude):
    reply = claude.messages.create(
        model="claude-stub",
        max_tokens=2_000,
        system=SYSTEM,
        messages=[{"role": "user", "content": EXAMPLE_PROMPT}],
    )
    assert reply.stop_reason == "end_turn"
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    samples = json.loads(reply.content[0].text)["samples"]
    assert len(samples) == 5 and all(sample.keys() == EXAMPLES[0].keys() for sample in samples)


def test_anthropic_structured_output_follows_the_schema(claude):
    reply = claude.messages.create(
        model="claude-stub",
        max_tokens=4_000,
        messages=[{"role": "user", "content": "Write samples."}],
        output_config={"format": {"type": "json_schema", "schema": batch_schema()}},
    )
    jsonschema.validate(json.loads(reply.content[0].text), batch_schema())


def test_anthropic_faults_raise_the_sdks_own_errors(stub, claude):
    message = {
        "model": "claude-stub",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    stub.set_behaviour(StubBehaviour(rate_limit_rate=1.0))
    with pytest.raises(anthropic.RateLimitError) as raised:
        claude.messages.create(**message)
    assert raised.value.response.headers["retry-after"] == "0.2"
    assert raised.value.body["error"]["type"] == "rate_limit_error"
    stub.set_behaviour(StubBehaviour(server_error_rate=1.0))
    statuses = set()
    for _ in range(8):
        with pytest.raises(anthropic.InternalServerError) as raised:
            claude.messages.create(**message)
        statuses.add(raised.value.status_code)
    assert statuses == {500, 529}


def test_behaviour_rejects_rates_outside_zero_to_one_and_unknown_choices():
    with pytest.raises(ValueError, match="fault_rate"):
        StubBehaviour(fault_rate=1.5)
    with pytest.raises(ValueError, match="wrap"):
        StubBehaviour(wrap="list")


# --- from another process -----------------------------------------------------------


def test_help_lists_a_flag_for_every_behaviour_field(capsys):
    with pytest.raises(SystemExit):
        stub_main(["--help"])
    help_text = capsys.readouterr().out
    for knob in fields(StubBehaviour):
        assert f"--{knob.name.replace('_', '-')}" in help_text


def test_the_module_serves_from_its_own_process_until_sigterm():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seedbed.testing.llm_stub",
            "--port",
            "0",
            "--latency-ms",
            "10",
            "--wrap",
            "array",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 10)
        assert ready, "the stub printed no URL"
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0)
        assert len(json.loads(ask(client).choices[0].message.content)) == 5
        assert httpx.get(base_url.removesuffix("/v1") + "/stats").json()["requests"] == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
