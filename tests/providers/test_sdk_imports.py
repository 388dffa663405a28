"""A server or a worker imports the vendor SDKs in a thread when it starts, including the
parts an SDK would otherwise import on a provider's first call, inside the event loop
(where a worker's first calls and its heartbeat would wait for them)."""

import subprocess
import sys

FIRST_CALL_MODULES = ("openai.resources.chat.completions", "anthropic.resources.messages")

PROBE = """
import sys
from seedbed.providers.registry import import_provider_sdks
from seedbed.settings import Settings
wanted = sys.argv[1:]
before = [name for name in wanted if name in sys.modules]
import_provider_sdks(Settings(anthropic_api_key="sk-test"))
print(before, [name for name in wanted if name in sys.modules])
"""


def test_the_sdk_parts_a_first_call_needs_are_imported_at_start():
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *FIRST_CALL_MODULES],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == f"[] {list(FIRST_CALL_MODULES)}"
