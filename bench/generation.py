"""Generation throughput against the physical limit, and the embedded model against its
raw decode speed.

    python bench/generation.py            # the stub run (about half a minute)
    python bench/generation.py --local    # also the embedded model (a few minutes)
    python bench/generation.py --local-only   # only the embedded model

Stub run: 1,000 unique samples from 10 seeds, the stub LLM in its own process answering
after 200 ms, with 20 % faults (429 with Retry-After, 500, malformed JSON) and 20 %
duplicate samples. The physical limit is paid calls × latency ÷ concurrency: the wall
time of a perfect scheduler making the same calls. The floor is the same for the fewest
calls that could deliver 1,000 samples (no faults, no duplicates).
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import openai  # noqa: F401  imported up front: its import time is not generation time

import seedbed
import seedbed.generation.engine
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings

SEEDS = [
    {
        "question": "How do I reset my password?",
        "answer": "Use the 'Forgot password' link on the sign-in page.",
        "intent": "account",
    },
    {
        "question": "Can I change the email on my account?",
        "answer": "Yes, under Settings → Profile.",
        "intent": "account",
    },
    {
        "question": "Why was my card declined?",
        "answer": "Your bank refused the charge; try another card or call them.",
        "intent": "billing",
    },
    {
        "question": "How do I get an invoice for last month?",
        "answer": "Invoices are under Billing → History.",
        "intent": "billing",
    },
    {
        "question": "The app crashes when I upload a photo.",
        "answer": "Update to the latest version; if it persists, send us the crash log.",
        "intent": "bug",
    },
    {
        "question": "Do you ship to Canada?",
        "answer": "Yes, in 5–8 business days.",
        "intent": "shipping",
    },
    {
        "question": "Where is my order?",
        "answer": "Track it from the link in your confirmation email.",
        "intent": "shipping",
    },
    {
        "question": "Can I return an opened item?",
        "answer": "Within 30 days, if it is undamaged.",
        "intent": "returns",
    },
    {
        "question": "How long do refunds take?",
        "answer": "5–10 business days after we receive the item.",
        "intent": "returns",
    },
    {
        "question": "Is there a student discount?",
        "answer": "Yes, 20 % with a valid student email.",
        "intent": "pricing",
    },
]
COUNT = 1_000
LATENCY_MS = 200
CONCURRENCY = 16
SAMPLES_PER_CALL = 5


def expand_as_benchmarked(registry: ProviderRegistry, count: int):
    """``count`` samples like the seeds, asked as every generation benchmark here asks."""
    return seedbed.expand(
        SEEDS,
        count,
        model="openai/gpt-4o-mini",
        registry=registry,
        preserve_fields=["intent"],
        concurrency=CONCURRENCY,
        samples_per_call=SAMPLES_PER_CALL,
    )


def stub_process(*arguments: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "seedbed.testing.llm_stub", "--port", "0", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # connections cut at the end of the run are not news
        text=True,
    )
    base_url = process.stdout.readline().strip()
    return process, base_url


def stub_run() -> None:
    process, base_url = stub_process(
        "--latency-ms",
        str(LATENCY_MS),
        "--fault-rate",
        "0.2",
        "--duplicate-rate",
        "0.2",
        "--seed",
        "1",
    )
    try:
        settings = Settings(
            home=tempfile.mkdtemp(), openai_base_url=base_url, openai_api_key="bench"
        )
        registry = ProviderRegistry(settings, load_plugins=False)
        # One small run first: the SDK builds its client and types on first use.
        seedbed.expand(SEEDS, 1, model="openai/gpt-4o-mini", registry=registry)
        started = time.perf_counter()
        result = expand_as_benchmarked(registry, COUNT)
        wall = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()
    stats = result.stats
    limit = stats.calls * LATENCY_MS / 1000 / CONCURRENCY
    floor = math.ceil(COUNT / SAMPLES_PER_CALL) * LATENCY_MS / 1000 / CONCURRENCY
    tokens = stats.usage.total_tokens
    print(
        f"stub run: {COUNT} samples, {LATENCY_MS} ms latency, 20% faults, 20% duplicates, concurrency {CONCURRENCY}"
    )
    print(f"  delivered            {stats.accepted} unique valid ({result.stop_reason})")
    print(f"  wall time            {wall:.2f} s")
    print(
        f"  physical limit       {limit:.2f} s  ({stats.calls} paid calls × {LATENCY_MS} ms ÷ {CONCURRENCY})  ratio {wall / limit:.2f}"
    )
    print(f"  fault-free floor     {floor:.2f} s  ratio {wall / floor:.2f}")
    print(f"  calls per sample     {stats.calls / stats.accepted:.3f}")
    print(
        f"  tokens per sample    {tokens / stats.accepted:.1f} (prompt {stats.usage.prompt_tokens / stats.accepted:.1f}, completion {stats.usage.completion_tokens / stats.accepted:.1f})"
    )
    print(f"  rejected             {dict(stats.rejected)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--local", action="store_true", help="also measure the embedded model")
    parser.add_argument("--local-only", action="store_true", help="only the embedded model")
    parser.add_argument("--local-count", type=int, default=12)
    options = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not options.local_only:
        stub_run()
    if options.local or options.local_only:
        from local_model import local_run

        local_run(SEEDS, options.local_count)
