"""The embedded model through the engine against the model's raw decode speed, and where
the difference goes. Run by ``python bench/generation.py --local``.

The ratio compares what a user gets, accepted samples per minute, with what the same
machine could give if the model did nothing but write those samples' JSON at its raw
(unconstrained) decode speed: no prompt to read, no grammar, no wrapper, no rejected or
cut samples, no time between calls. Each call's stages come from the provider's progress
reports (``reading_prompt``, then one ``writing`` report per token), so the time of a run
splits into reading prompts, writing, and the time outside calls.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field

import seedbed
from seedbed.generation.prompts import generation_messages
from seedbed.providers.base import CompletionRequest, Message
from seedbed.providers.progress import READING_PROMPT, WRITING, CallProgress, listening
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings

MODEL = "qwen2.5-coder-1.5b-instruct"
SAMPLES_PER_CALL = 3
GOAL = 0.85
UNRELATED = (Message("user", "Write a long story about a lighthouse keeper."),)
# What the engine asks of the model for the benchmark's seeds, written out by hand so the
# grammar's cost is measured on the same kind of output.
BATCH_SCHEMA = {
    "type": "object",
    "properties": {
        "samples": {
            "type": "array",
            "minItems": SAMPLES_PER_CALL,
            "maxItems": SAMPLES_PER_CALL,
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string"},
                    "answer": {"type": "string"},
                    "intent": {"type": "string"},
                },
                "required": ["question", "answer", "intent"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["samples"],
    "additionalProperties": False,
}


@dataclass
class CallTiming:
    started: float
    reading_at: float | None = None
    first_token_at: float | None = None
    last_token_at: float | None = None
    ended: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def heard(self, progress: CallProgress) -> None:
        now = time.perf_counter()
        if progress.stage == READING_PROMPT:
            self.reading_at = now
        elif progress.stage == WRITING:
            self.first_token_at = self.first_token_at or now
            self.last_token_at = now

    @property
    def reading_seconds(self) -> float:
        if self.reading_at is None or self.first_token_at is None:
            return 0.0
        return self.first_token_at - self.reading_at

    @property
    def writing_seconds(self) -> float:
        # From the first token to the end: every token after the first one, and the
        # end-of-text token the grammar allowed.
        if self.first_token_at is None or self.ended is None:
            return 0.0
        return self.ended - self.first_token_at


@dataclass
class TimedProvider:
    """The local provider, with each call's stages timed."""

    inner: object
    calls: list[CallTiming] = field(default_factory=list)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def complete(self, request: CompletionRequest):
        timing = CallTiming(time.perf_counter())
        self.calls.append(timing)
        with listening(timing.heard):
            completion = await self.inner.complete(request)
        timing.ended = time.perf_counter()
        timing.prompt_tokens = completion.usage.prompt_tokens
        timing.completion_tokens = completion.usage.completion_tokens
        return completion


def ask(provider: TimedProvider, messages, **options) -> CallTiming:
    request = CompletionRequest(model=MODEL, messages=tuple(messages), **options)
    asyncio.run(provider.complete(request))
    return provider.calls[-1]


def writing_speed(provider: TimedProvider, messages, **options) -> float:
    """Tokens per second of one call's writing stage (its prompt's reading left out)."""
    call = ask(provider, messages, temperature=0.7, **options)
    return (call.completion_tokens - 1) / (call.last_token_at - call.first_token_at)


def decode_speeds(provider: TimedProvider, seeds) -> tuple[list[float], list[float]]:
    """Raw (unconstrained) and grammar-constrained writing speeds, measured in turn so that
    both see the same load of a shared machine."""
    ask(provider, UNRELATED, max_tokens=4)  # loads the model
    messages = generation_messages(seeds[:3], SAMPLES_PER_CALL, preserve_fields=["intent"])
    raw, constrained = [], []
    for _ in range(2):
        raw.append(writing_speed(provider, UNRELATED, max_tokens=96))
        constrained.append(
            writing_speed(provider, messages, max_tokens=96, json_schema=BATCH_SCHEMA)
        )
    return raw, constrained


def prompt_reuse(provider: TimedProvider, seeds) -> list[str]:
    """Reading a generation prompt cold, after one with the same system prompt but other
    examples, and after the identical prompt (llama.cpp keeps the previous call's tokens
    and reads only what differs from their start)."""
    first = generation_messages(seeds[:3], SAMPLES_PER_CALL, preserve_fields=["intent"])
    other = generation_messages(seeds[3:6], SAMPLES_PER_CALL, preserve_fields=["intent"])
    ask(provider, UNRELATED, max_tokens=1)
    cold = ask(provider, first, max_tokens=1)
    shared_system = ask(provider, other, max_tokens=1)
    identical = ask(provider, other, max_tokens=1)
    rate = cold.prompt_tokens / cold.reading_seconds
    return [
        f"  prompt reading       cold {cold.reading_seconds:.1f} s for {cold.prompt_tokens}"
        f" tokens ({rate:.0f} tokens/s); same system prompt, other examples"
        f" {shared_system.reading_seconds:.1f} s ({shared_system.prompt_tokens} tokens);"
        f" identical prompt {identical.reading_seconds:.2f} s",
        f"                       reused after the same system prompt: about"
        f" {max(0.0, 1 - shared_system.reading_seconds / cold.reading_seconds) * 100:.0f} %"
        " of the reading time",
    ]


def sample_tokens(provider, samples) -> int:
    """Tokens of the accepted samples as the model would write them (JSON, one per sample)."""
    import llama_cpp

    path = provider.inner.model_file(MODEL)
    vocabulary = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return sum(
        len(vocabulary.tokenize(json.dumps(sample, ensure_ascii=False).encode(), add_bos=False))
        for sample in samples
    )


def local_run(seeds, count: int) -> None:
    from seedbed.providers.local import LocalProvider

    provider = TimedProvider(LocalProvider(None, cache_dir=Settings().home / "models"))
    raw_speeds, constrained_speeds = decode_speeds(provider, seeds)
    print(f"embedded model: {count} samples asked, {SAMPLES_PER_CALL} a call", flush=True)
    print(
        f"  before the run       raw {', '.join(f'{speed:.1f}' for speed in raw_speeds)} tokens/s,"
        f" with the grammar {', '.join(f'{speed:.1f}' for speed in constrained_speeds)}",
        flush=True,
    )
    for line in prompt_reuse(provider, seeds):
        print(line, flush=True)
    provider.calls.clear()
    registry = ProviderRegistry(Settings(), load_plugins=False)
    registry.add_provider("local", provider)
    started = time.perf_counter()
    result = seedbed.expand(
        seeds[:5],
        count,
        model=f"local/{MODEL}",
        registry=registry,
        preserve_fields=["intent"],
        samples_per_call=SAMPLES_PER_CALL,
    )
    wall = time.perf_counter() - started
    calls = list(provider.calls)
    raw_speeds.append(writing_speed(provider, UNRELATED, max_tokens=96))
    raw = sum(raw_speeds) / len(raw_speeds)
    constrained = sum(constrained_speeds) / len(constrained_speeds)
    stats = result.stats
    accepted = stats.accepted
    useful_tokens = sample_tokens(provider, result.items)
    reading = sum(call.reading_seconds for call in calls)
    writing = sum(call.writing_seconds for call in calls)
    calls_time = sum((call.ended or started) - call.started for call in calls)
    written = sum(call.completion_tokens for call in calls)
    prompt_tokens = sum(call.prompt_tokens for call in calls)
    per_minute = accepted / wall * 60
    at_raw = accepted / (useful_tokens / raw) * 60 if useful_tokens else 0.0
    speed_in_run = written / writing if writing else 0.0
    print(
        f"  delivered            {accepted} ({result.stop_reason}) in {wall:.1f} s"
        f" = {per_minute:.1f} samples/min; {len(calls)} calls;"
        f" rejected {dict(stats.rejected)}"
    )
    spread = (max(raw_speeds) - min(raw_speeds)) / raw
    print(
        f"  raw decode speed     {raw:.1f} tokens/s (unconstrained, same machine; measured"
        f" {', '.join(f'{speed:.1f}' for speed in raw_speeds)}, the last after the run)"
        + (f"  UNRELIABLE: the machine's load changed by {spread:.0%}" if spread > 0.25 else "")
    )
    print(
        f"  with the grammar     {constrained:.1f} tokens/s, measured in turn with the raw"
        f" speed: the JSON-schema grammar costs {1 - constrained / raw:.0%}"
    )
    print(
        f"  at raw speed         {at_raw:.1f} samples/min (the accepted samples as JSON:"
        f" {useful_tokens / max(1, accepted):.0f} tokens each)"
    )
    print(
        f"  ratio                {per_minute / at_raw if at_raw else 0:.2f} of raw"
        f" (goal ≥ {GOAL}); where the time went:"
    )
    print(
        f"    reading prompts    {reading:6.1f} s {reading / wall:4.0%}"
        f"  {prompt_tokens} prompt tokens, {prompt_tokens / max(1, len(calls)):.0f}"
        " a call (the evaluated part is less where a call starts like the one before)"
    )
    print(
        f"    writing            {writing:6.1f} s {writing / wall:4.0%}"
        f"  {written} tokens at {speed_in_run:.1f} tokens/s"
        f" ({speed_in_run / raw:.2f} of raw);"
        f" {written - useful_tokens} of them ({(written - useful_tokens) / max(1, written):.0%})"
        " not in accepted samples (JSON wrapper, rejected or cut samples)"
    )
    other_in_calls = calls_time - reading - writing
    outside = wall - calls_time
    print(
        f"    in calls, other    {other_in_calls:6.1f} s {other_in_calls / wall:4.0%}"
        "  (tokenizing, waiting for the model)"
    )
    print(
        f"    outside calls      {outside:6.1f} s {outside / wall:4.0%}"
        "  (planning, parsing, judging)"
    )
    print(
        f"  engine decode speed  {stats.usage.completion_tokens / wall:.1f} completion tokens/s"
        f" = {stats.usage.completion_tokens / wall / raw:.2f} of raw"
        " (the earlier measure: counts every token written)"
    )
