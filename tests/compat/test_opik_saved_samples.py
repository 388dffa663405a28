"""Samples that ``seedbed expand --save`` adds to a dataset, read back through the
unmodified Opik client: ``get_items()`` and the task ``evaluate()`` runs see exactly the
user's fields; where the samples came from is in their tags."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opik import tracing_runtime_config
from opik.api_objects import opik_client as opik_client_module
from opik.evaluation import evaluate

from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import running_server

pytestmark = [
    pytest.mark.compat,
    pytest.mark.usefixtures("offline_llm_judge_library"),
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

SEEDS = [
    {"input": "How do I reset my password?", "expected_output": "Use the sign-in page."},
    {"input": "Can I pay by invoice?", "expected_output": "Yes, on the business plan."},
    {"input": "Where is my order?", "expected_output": "The tracking link is in your email."},
]
USER_FIELDS = {"input", "expected_output"}


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=5)) as server:
        yield server


@pytest.fixture
def opik_client(database, database_url, tmp_path, opik_env, make_opik_client, monkeypatch):
    with running_server(database_url, tmp_path) as base_url:
        opik_env(base_url)
        monkeypatch.delenv("OPIK_TRACK_DISABLE")
        tracing_runtime_config.reset_tracing_to_config_default()
        opik_client_module.reset_global_client()
        yield make_opik_client()
        opik_client_module.reset_global_client()
        tracing_runtime_config.reset_tracing_to_config_default()


def test_saved_samples_reach_the_client_with_only_the_users_fields(
    opik_client, database_url, stub, tmp_path
):
    dataset = opik_client.create_dataset("support-q")
    dataset.insert(SEEDS)

    subprocess.run(
        [sys.executable, "-m", "seedbed", "expand", "support-q", "-n", "4", "--save"]
        + ["--model", "gpt-4o-mini", "--database-url", database_url],
        env={
            **os.environ,
            "SEEDBED_HOME": str(tmp_path / "home"),
            "OPENAI_BASE_URL": stub.base_url,
            "OPENAI_API_KEY": "test",
        },
        check=True,
        capture_output=True,
        timeout=120,
    )

    items = dataset.get_items()
    assert len(items) == 7
    assert all(set(item) - {"id"} == USER_FIELDS for item in items)

    seen: list[dict] = []

    def task(item: dict) -> dict:
        seen.append(dict(item))
        return {"output": "ok"}

    evaluate(dataset=dataset, task=task, experiment_name="clean-fields", verbose=0)

    assert len(seen) == 7
    assert all(set(item) - {"id"} == USER_FIELDS for item in seen)

    # Where they came from is readable through the API: tags of the item.
    page = opik_client.rest_client.datasets.get_dataset_items(dataset.id, size=100)
    tagged = [item for item in page.content if "generated" in (item.tags or [])]
    assert len(tagged) == 4
    assert all("model:openai/gpt-4o-mini" in item.tags for item in tagged)
