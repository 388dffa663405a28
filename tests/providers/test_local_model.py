"""The local provider. The slow tests run the real embedded model: its weights are
assembled once into ``$SEEDBED_HOME/models`` (``~/.seedbed/models`` by default) and kept
there, so only the first session pays for it."""

import asyncio
import itertools
import json
import subprocess
import sys
import time
from dataclasses import replace

import jsonschema
import pytest

from seedbed.providers.base import (
    CompletionRequest,
    Message,
    Provider,
    ProviderNotConfigured,
    UnknownModel,
)
from seedbed.providers.local import DEFAULT_LOCAL_MODEL, LocalProvider
from seedbed.providers.progress import (
    ASSEMBLING_WEIGHTS,
    LOADING_MODEL,
    READING_PROMPT,
    WRITING,
    CallProgress,
    listening,
)
from seedbed.settings import Settings

SEED_EXAMPLE = {
    "question": "How do I reset my password?",
    "answer": "Use the 'Forgot password' link on the sign-in page.",
}
THREE_SAMPLES = {
    "type": "object",
    "properties": {
        "samples": {
            "type": "array",
            "minItems": 3,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
                "required": ["question", "answer"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["samples"],
    "additionalProperties": False,
}
MESSAGES = (
    Message(
        "system", "You write test data for a customer-support assistant. Reply with JSON only."
    ),
    Message(
        "user",
        f"Here is one example: {json.dumps(SEED_EXAMPLE)}\n"
        'Write 3 new examples about other topics, as {"samples": [{"question": ..., "answer": ...}, ...]}.',
    ),
)


def test_the_local_provider_keeps_the_contract():
    provider = LocalProvider()
    assert isinstance(provider, Provider)
    assert (provider.name, provider.supports_json_schema, provider.max_concurrency) == (
        "local",
        True,
        1,
    )


def test_a_model_it_does_not_serve_is_unknown(tmp_path):
    with pytest.raises(UnknownModel, match=DEFAULT_LOCAL_MODEL):
        LocalProvider(cache_dir=tmp_path).model_file("gpt-4o")
    with pytest.raises(UnknownModel, match="no GGUF file"):
        LocalProvider(cache_dir=tmp_path, allow_model_paths=True).model_file(
            str(tmp_path / "absent.gguf")
        )


def test_a_users_gguf_serves_any_model_name(tmp_path):
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF")
    assert LocalProvider(own).model_file("whatever-it-is") == own
    assert LocalProvider(cache_dir=tmp_path, allow_model_paths=True).model_file(str(own)) == own
    with pytest.raises(ProviderNotConfigured, match="no GGUF file"):
        LocalProvider(tmp_path / "gone.gguf").model_file("whatever-it-is")


def test_model_names_that_are_paths_are_refused_unless_allowed(tmp_path):
    """Model names arrive over the API; a server must not open whatever file they name."""
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF")
    with pytest.raises(UnknownModel, match="SEEDBED_LOCAL_MODEL_PATH"):
        LocalProvider(cache_dir=tmp_path).model_file(str(own))


def test_without_llama_cpp_the_error_names_the_extra():
    # A fresh interpreter in which `import llama_cpp` fails, as it does without the extra.
    script = (
        "import asyncio, sys\n"
        "sys.modules['llama_cpp'] = None\n"
        "from seedbed.providers.base import CompletionRequest, Message, ProviderNotConfigured\n"
        "from seedbed.providers.local import LocalProvider\n"
        "request = CompletionRequest('qwen2.5-coder-1.5b-instruct', (Message('user', 'hi'),))\n"
        "try:\n"
        "    asyncio.run(LocalProvider(cache_dir='/nonexistent').complete(request))\n"
        "except ProviderNotConfigured as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "seedbed[local]" in result.stdout


@pytest.fixture(scope="session")
def embedded_model() -> LocalProvider:
    provider = LocalProvider(cache_dir=Settings().home / "models")
    provider.load()
    return provider


def complete(provider: LocalProvider, **options):
    request = CompletionRequest(model=DEFAULT_LOCAL_MODEL, messages=MESSAGES, **options)
    return asyncio.run(provider.complete(request))


@pytest.mark.slow
def test_the_embedded_model_writes_new_samples_that_match_the_schema(embedded_model):
    reply = complete(
        embedded_model, temperature=0.8, max_tokens=300, json_schema=THREE_SAMPLES, seed=11
    )

    assert reply.finish_reason == "stop", reply.text
    samples = json.loads(reply.text)
    jsonschema.validate(samples, THREE_SAMPLES)
    questions = [sample["question"].strip() for sample in samples["samples"]]
    assert all(questions)
    assert SEED_EXAMPLE["question"] not in questions
    assert len(set(questions)) == 3
    assert reply.usage.prompt_tokens > 0 and 0 < reply.usage.completion_tokens <= 300
    assert reply.model == DEFAULT_LOCAL_MODEL


@pytest.mark.slow
def test_the_seed_makes_replies_repeatable_and_varied(embedded_model):
    first = complete(embedded_model, temperature=1.0, max_tokens=24, seed=1)
    again = complete(embedded_model, temperature=1.0, max_tokens=24, seed=1)
    other = complete(embedded_model, temperature=1.0, max_tokens=24, seed=2)

    assert first.text == again.text
    assert other.text != first.text
    assert first.finish_reason == "length"


STORY = (Message("user", "Write a very long story about a lighthouse keeper and the sea."),)


class ProgressLog:
    """What a call reported, with the time each report arrived."""

    def __init__(self) -> None:
        self.events: list[tuple[float, CallProgress]] = []

    def __call__(self, progress: CallProgress) -> None:
        self.events.append((time.monotonic(), progress))

    @property
    def stages(self) -> list[str]:
        return [stage for stage, _ in itertools.groupby(p.stage for _, p in self.events)]

    def written(self) -> list[int]:
        return [p.completion_tokens for _, p in self.events if p.stage == WRITING]


async def call_with_progress(provider: LocalProvider, request: CompletionRequest):
    log = ProgressLog()
    with listening(log):
        return await provider.complete(request), log


@pytest.mark.slow
def test_a_call_reports_its_progress_token_by_token(embedded_model):
    request = CompletionRequest(
        model=DEFAULT_LOCAL_MODEL, messages=MESSAGES, max_tokens=40, json_schema=THREE_SAMPLES
    )
    started = time.monotonic()
    reply, log = asyncio.run(call_with_progress(embedded_model, request))

    assert log.stages == [READING_PROMPT, WRITING]
    assert log.written() == list(range(1, reply.usage.completion_tokens + 1))
    first_token_at = next(at for at, p in log.events if p.stage == WRITING)
    # Reading this short prompt takes a second or two even on a busy machine.
    assert first_token_at - started < 30


@pytest.mark.slow
def test_a_call_that_outlives_its_timeout_stops_and_frees_the_model_at_once(embedded_model):
    """The thread of a timed-out call stops at its next token: the next call does not wait
    the minutes the story would have taken."""
    story = CompletionRequest(
        model=DEFAULT_LOCAL_MODEL, messages=STORY, max_tokens=2_000, timeout_seconds=8
    )
    short = CompletionRequest(model=DEFAULT_LOCAL_MODEL, messages=MESSAGES, max_tokens=4)
    # The story's prompt read once beforehand, so that its timeout falls while it writes.
    asyncio.run(embedded_model.complete(replace(story, max_tokens=1, timeout_seconds=None)))

    async def scenario():
        log = ProgressLog()
        with listening(log), pytest.raises(TimeoutError, match="no reply within 8 s"):
            await embedded_model.complete(story)
        written_by_the_timeout = len(log.written())
        # 2,000 tokens take minutes: the next call only finishes in time on a free model.
        reply = await asyncio.wait_for(embedded_model.complete(short), timeout=120)
        return log, written_by_the_timeout, reply

    log, written_by_the_timeout, reply = asyncio.run(scenario())

    assert written_by_the_timeout > 0, "the story had begun"
    # At most the token being written when the timeout came.
    assert len(log.written()) <= written_by_the_timeout + 1
    assert reply.usage.completion_tokens == 4


@pytest.mark.slow
def test_a_cancelled_call_stops_writing_at_its_next_token(embedded_model):
    story = CompletionRequest(model=DEFAULT_LOCAL_MODEL, messages=STORY, max_tokens=2_000)

    async def scenario():
        log = ProgressLog()
        with listening(log):
            call = asyncio.create_task(embedded_model.complete(story))
            while not log.written():
                await asyncio.sleep(0.05)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            written = len(log.written())
            # Long enough for a few more tokens, had the thread gone on.
            await asyncio.sleep(3)
        return log, written

    log, written_by_the_cancellation = asyncio.run(scenario())

    assert len(log.written()) <= written_by_the_cancellation + 1


@pytest.mark.slow
def test_usage_counts_the_whole_prompt_whether_or_not_its_start_was_already_read(
    embedded_model,
):
    """The second call reuses the first one's evaluated prompt; its usage does not show it."""
    first = complete(embedded_model, max_tokens=6, seed=3)
    second = complete(embedded_model, max_tokens=60, json_schema=THREE_SAMPLES, seed=3)

    assert first.usage.prompt_tokens == second.usage.prompt_tokens > 50
    assert first.finish_reason == "length" and first.usage.completion_tokens == 6


@pytest.mark.slow
def test_before_its_first_token_a_call_says_the_weights_and_the_model_are_being_prepared(
    embedded_model, tmp_path
):
    weights = embedded_model.model_file(DEFAULT_LOCAL_MODEL)
    # In a cache directory of its own the weights are not verified yet, and another
    # context size means the model is loaded anew.
    (tmp_path / weights.name).symlink_to(weights)
    fresh = LocalProvider(cache_dir=tmp_path, n_ctx=1024)
    request = CompletionRequest(model=DEFAULT_LOCAL_MODEL, messages=MESSAGES, max_tokens=2)

    reply, log = asyncio.run(call_with_progress(fresh, request))

    assert log.stages == [ASSEMBLING_WEIGHTS, LOADING_MODEL, READING_PROMPT, WRITING]
    assert reply.usage.completion_tokens == 2
