"""Dataset expansion through the unmodified Opik client, over real HTTP, against
``seedbed serve`` whose OpenAI provider is a stub LLM server. The client has no
high-level call for it: users reach it through ``client.rest_client.datasets``."""

import datetime as dt
from collections.abc import Iterator

import opik
import pytest
from opik.rest_api.core.api_error import ApiError
from opik.rest_api.types.dataset_expansion_response import DatasetExpansionResponse

from seedbed.testing import StubBehaviour, StubLLMServer
from tests.conftest import running_server

pytestmark = [
    pytest.mark.compat,
    # Raised inside httpx by how the Opik client builds its HTTP client; not ours to fix.
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

SEEDS = [
    {"input": "How do I reset my password?", "expected_output": "Use the sign-in page."},
    {"input": "Can I pay by invoice?", "expected_output": "Yes, on the business plan."},
    {"input": "Where is my order?", "expected_output": "The tracking link is in your email."},
    {"input": "Do you ship to Canada?", "expected_output": "Yes, within five business days."},
]


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=9)) as server:
        yield server


@pytest.fixture
def opik_client(
    database, database_url, tmp_path, stub, opik_env, make_opik_client
) -> Iterator[opik.Opik]:
    """A client for a local-mode ``seedbed serve`` whose OpenAI provider is the stub."""
    with running_server(
        database_url, tmp_path, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="test"
    ) as base_url:
        opik_env(base_url)
        yield make_opik_client()


# One test per engine: starting ``seedbed serve`` is most of its time.
def test_expand_dataset_through_the_client(opik_client, stub):
    dataset = opik_client.create_dataset("support-faq")
    dataset.insert(SEEDS)
    datasets_api = opik_client.rest_client.datasets

    expansion = datasets_api.expand_dataset(
        dataset.id,
        model="gpt-4o-mini",
        sample_count=7,
        preserve_fields=["expected_output"],
        variation_instructions="Questions about refunds.",
    )

    # Parsed into the client's own response model, every field filled.
    assert isinstance(expansion, DatasetExpansionResponse)
    assert (expansion.model, expansion.total_generated) == ("gpt-4o-mini", 7)
    assert isinstance(expansion.generation_time, dt.datetime)
    samples = expansion.generated_samples
    assert len(samples) == 7
    for sample in samples:
        assert sample.data["_generated"] is True
        assert sample.data["_generation_model"] == "openai/gpt-4o-mini"
        assert {"input", "expected_output"} <= set(sample.data)
        assert sample.dataset_id == dataset.id
    assert len({sample.data["input"] for sample in samples}) == 7
    paid = stub.stats["requests"]
    assert paid >= 1
    # Not saved, as in Opik: the dataset still holds its seeds only.
    assert len(dataset.get_items()) == len(SEEDS)
    assert opik_client.get_dataset("support-faq").dataset_items_count == len(SEEDS)

    # A model no provider serves: the client's own error, with the status and message.
    with pytest.raises(ApiError) as raised:
        datasets_api.expand_dataset(dataset.id, model="gemini-pro", sample_count=3)
    assert raised.value.status_code == 400
    assert "gemini-pro" in raised.value.body["message"]
    assert stub.stats["requests"] == paid
