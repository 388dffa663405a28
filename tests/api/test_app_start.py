"""What the app does when it starts, before any request asks for it."""

import subprocess
import sys

STARTS_AND_WAITS_FOR_THE_SDK = """
import sys, time
from fastapi.testclient import TestClient
from seedbed.api.app import create_app
from seedbed.settings import Settings

app = create_app(Settings(database_url=sys.argv[1], home=sys.argv[2]))
assert "openai" not in sys.modules, "imported before the app started"
with TestClient(app):
    deadline = time.monotonic() + 60
    while "openai" not in sys.modules and time.monotonic() < deadline:
        time.sleep(0.05)
print("openai" in sys.modules)
"""


def test_the_app_imports_the_provider_sdks_in_the_background_when_it_starts(tmp_path):
    """So that the first generation request does not import them inside the event loop,
    holding every other request for a second or more."""
    database_url = f"sqlite:///{tmp_path / 'seedbed.db'}"
    subprocess.run(
        [sys.executable, "-m", "seedbed", "datasets", "list", "--database-url", database_url],
        check=True,
    )

    started = subprocess.run(
        [sys.executable, "-c", STARTS_AND_WAITS_FOR_THE_SDK, database_url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "True"
