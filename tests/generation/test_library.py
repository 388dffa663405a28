"""``seedbed.expand`` as a script uses it: called more than once in one process."""

import subprocess
import sys

TWO_BLOCKING_CALLS = """
import gc
import seedbed
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubLLMServer

seeds = [{"question": "How do I reset my password?", "answer": "Use the link."},
         {"question": "Can I pay by invoice?", "answer": "Yes, on the business plan."}]
with StubLLMServer() as stub:
    registry = ProviderRegistry(Settings(openai_api_key="test", openai_base_url=stub.base_url), load_plugins=False)
    for _ in range(2):
        result = seedbed.expand(seeds, 5, model="openai/gpt-4o-mini", registry=registry)
        print(result.stop_reason, len(result.items))
    del registry
    gc.collect()
"""


def test_blocking_expand_called_twice_works_and_leaves_no_noise():
    """Each call runs in an event loop of its own: a connection kept from the first loop
    would fail in the second, or complain at exit that its loop is closed."""
    done = subprocess.run(
        [sys.executable, "-c", TWO_BLOCKING_CALLS], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["completed 5", "completed 5"]
    assert "Event loop is closed" not in done.stderr and "Traceback" not in done.stderr, done.stderr
