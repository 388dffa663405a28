"""The unmodified Galileo client (``galileo`` on PyPI) against ``seedbed serve`` over real
HTTP, configured as a user configures it: ``GALILEO_API_URL``, ``GALILEO_CONSOLE_URL``
and ``GALILEO_API_KEY`` (a seedbed API key: the server requires keys). The client logs
in, creates, lists, finds, reads and appends to datasets, and extends one with synthetic
rows from an OpenAI-compatible stub server, or fails to when the provider is down.

``extend_dataset`` polls the job every second with no time limit, so each call runs in
a thread with a watchdog: a server that never reports the end fails the test instead of
hanging it.
"""

import collections
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from galileo.config import GalileoPythonConfig
from galileo.datasets import (
    DatasetAPIException,
    create_dataset,
    extend_dataset,
    get_dataset,
    list_datasets,
)
from galileo.resources.api.datasets import (
    get_dataset_content_datasets_dataset_id_content_get as get_content,
)
from galileo.resources.api.datasets import (
    update_dataset_content_datasets_dataset_id_content_patch as patch_content,
)
from galileo.resources.errors import UnexpectedStatus
from galileo.resources.models.dataset_append_row import DatasetAppendRow
from galileo.resources.models.dataset_append_row_values import DatasetAppendRowValues
from galileo.resources.models.update_dataset_content_request import UpdateDatasetContentRequest

from seedbed.services import keys
from seedbed.storage.database import Database
from seedbed.storage.tables import metadata
from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import ENGINES, running_server

pytestmark = pytest.mark.compat

WATCHDOG_SECONDS = 60
ROWS = [
    {"input": "How do I reset my password?", "output": "Use the link on the sign-in page."},
    {"input": "Can I pay by invoice?", "output": "Yes, on the business plan."},
    {"input": "Where is my order?", "output": "The tracking link is in your confirmation email."},
]
EXAMPLES = [
    "How do I reset my password?",
    "Can I pay by invoice?",
    "Where is my order?",
    "Do you ship to Canada?",
]
EXTENSION = {
    "prompt_settings": {"model_alias": "GPT-4o mini", "temperature": 0.8},
    "prompt": "A support assistant for an online shop.",
    "instructions": "Questions customers ask about orders, payments and accounts.",
    "examples": EXAMPLES,
    "data_types": ["General Query", "Prompt Injection"],
    "count": 12,
}


@pytest.fixture
def galileo_env(monkeypatch, tmp_path) -> Iterator[Callable[..., None]]:
    """Call with the server's URL (and a key) to point the client at it. The person's own
    ``GALILEO_*`` variables are removed, and the client keeps its files in ``tmp_path``."""
    for name in list(os.environ):
        if name.startswith("GALILEO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GALILEO_HOME_DIR", str(tmp_path / "galileo"))

    def configure(base_url: str, api_key: str = "any key opens a local server") -> None:
        monkeypatch.setenv("GALILEO_API_URL", base_url)
        monkeypatch.setenv("GALILEO_CONSOLE_URL", base_url)
        monkeypatch.setenv("GALILEO_API_KEY", api_key)

    yield configure
    # The client keeps its login in a process-wide singleton; the next test gets a new one.
    if GalileoPythonConfig._instance is not None:
        GalileoPythonConfig._instance.reset()


def within_watchdog(call: Callable[[], Any]) -> Any:
    """``call()`` in a daemon thread, which a client polling forever cannot keep alive."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(WATCHDOG_SECONDS)
    if worker.is_alive():
        pytest.fail(f"the Galileo client was still polling after {WATCHDOG_SECONDS} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def values(row) -> dict[str, Any]:
    return row.values_dict.to_dict()


@dataclass(frozen=True)
class GalileoServer:
    base_url: str
    api_key: str
    stub: StubLLMServer
    failing: StubLLMServer


@pytest.fixture(scope="module", params=ENGINES)
def galileo_server(request, migrated_urls, tmp_path_factory) -> Iterator[GalileoServer]:
    """One ``seedbed serve`` per engine for the whole module (starting one takes seconds),
    requiring API keys. Its default OpenAI provider is a stub LLM server; a second one,
    ``broken``, is a stub that answers every call with a 500."""
    database_url = migrated_urls[request.param]
    database = Database(database_url)
    with database.writing() as connection:
        api_key = keys.create_key(connection, "galileo-user", ["team"]).secret
    with (
        StubLLMServer(StubBehaviour(seed=11)) as stub,
        StubLLMServer(StubBehaviour(server_error_rate=1.0)) as failing,
    ):
        broken = {"type": "openai", "base_url": failing.base_url, "api_key": "test"}
        with running_server(
            database_url,
            tmp_path_factory.mktemp(f"galileo-{request.param}"),
            SEEDBED_AUTH="required",
            OPENAI_BASE_URL=stub.base_url,
            OPENAI_API_KEY="test",
            SEEDBED_DEFAULT_MODEL="openai/gpt-4o-mini",
            SEEDBED_PROVIDERS=json.dumps({"broken": broken}),
            SEEDBED_GENERATION_MAX_RETRIES="0",
            SEEDBED_GENERATION_BREAKER_COOLDOWN_SECONDS="0.01",
        ) as base_url:
            yield GalileoServer(base_url, api_key, stub, failing)
    # Leave the database empty, as every other test expects to find it.
    with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    database.dispose()


@pytest.fixture
def galileo(galileo_server, galileo_env) -> GalileoServer:
    galileo_env(galileo_server.base_url, galileo_server.api_key)
    return galileo_server


def seedbed_api(server: GalileoServer, path: str) -> Any:
    response = httpx.get(
        f"{server.base_url}/seedbed/v1{path}", headers={"Authorization": server.api_key}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_datasets_through_the_client(galileo):
    created = create_dataset(name="support-faq", content=ROWS)
    listed = list_datasets()
    by_name = get_dataset(name="support-faq")
    by_id = get_dataset(id=created.id)

    assert (created.name, created.num_rows, created.current_version_index) == ("support-faq", 3, 1)
    assert created.column_names == ["input", "output"]
    assert created.id in [dataset.id for dataset in listed]
    assert by_name.id == by_id.id == created.id
    assert get_dataset(name="no-such-dataset") is None

    content = by_id.get_content()
    # The client renames "output" back to its "ground_truth".
    assert [values(row) for row in content.rows] == [
        {"input": row["input"], "ground_truth": row["output"]} for row in ROWS
    ]
    assert [row.index for row in content.rows] == [0, 1, 2]

    client = GalileoPythonConfig.get().api_client
    etag_before = get_content.sync_detailed(client=client, dataset_id=created.id).headers["ETag"]
    by_id.add_rows([{"input": "Do you ship to Canada?", "ground_truth": "Yes, within five days."}])

    rows = by_id.get_content().rows
    assert [values(row)["input"] for row in rows] == [
        *(row["input"] for row in ROWS),
        "Do you ship to Canada?",
    ]
    assert values(rows[-1])["ground_truth"] == "Yes, within five days."
    assert (
        get_dataset(id=created.id).num_rows,
        get_dataset(id=created.id).current_version_index,
    ) == (4, 2)

    # An edit made against the content as it was before add_rows: refused, as Galileo
    # refuses it (412 Precondition Failed), and nothing changes.
    stale = UpdateDatasetContentRequest(
        edits=[DatasetAppendRow(values=DatasetAppendRowValues.from_dict({"input": "Lost update"}))]
    )
    with pytest.raises(UnexpectedStatus) as refused:
        patch_content.sync_detailed(
            client=client, dataset_id=created.id, body=stale, if_match=etag_before
        )
    assert refused.value.status_code == 412
    assert "ETag" in json.loads(refused.value.content)["detail"]
    assert len(by_id.get_content().rows) == 4


def test_extend_dataset_through_the_client(galileo):
    requests_before = galileo.stub.stats["requests"]

    rows = within_watchdog(lambda: extend_dataset(**EXTENSION))

    inputs = [values(row)["input"] for row in rows]
    assert len(rows) == 12
    assert len(set(inputs)) == 12
    assert not set(inputs) & set(EXAMPLES)
    assert galileo.stub.stats["requests"] > requests_before

    # The new dataset, and the job behind it (seen through seedbed's own API), which
    # split the rows between the data types.
    (job,) = [
        job for job in seedbed_api(galileo, "/jobs")["content"] if job["status"] == "completed"
    ]
    assert (job["kind"], job["model"], job["accepted"]) == (
        "galileo_extend",
        "openai/gpt-4o-mini",
        12,
    )
    written = get_dataset(id=job["target_dataset_id"])
    assert (written.num_rows, written.current_version_index) == (12, 1)
    assert written.name.startswith("Synthetic data")
    assert sorted(row.row_id for row in rows) == sorted(
        row.row_id for row in written.get_content().rows
    )
    samples = seedbed_api(galileo, f"/jobs/{job['id']}/items")["content"]
    assert collections.Counter(sample["data_type"] for sample in samples) == {
        "General Query": 6,
        "Prompt Injection": 6,
    }


def test_a_failed_extension_stops_the_client(galileo):
    # A seedbed model name is taken as the alias as it is: here, the provider that fails.
    failing_extension = {**EXTENSION, "prompt_settings": {"model_alias": "broken/gpt-4o-mini"}}

    with pytest.raises(DatasetAPIException, match="(?i)unexpected error"):
        within_watchdog(lambda: extend_dataset(**failing_extension))

    assert galileo.failing.stats["requests"] >= 1
    (job,) = [
        job
        for job in seedbed_api(galileo, "/jobs")["content"]
        if job["model"] == "broken/gpt-4o-mini"
    ]
    assert job["status"] == "failed"
