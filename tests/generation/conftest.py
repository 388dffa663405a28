"""Generation tests run the engine against a real HTTP server speaking the OpenAI (and
Anthropic) protocol, with the faults of real providers on demand."""

from collections.abc import Iterator

import pytest

from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubBehaviour, StubLLMServer


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(StubBehaviour(seed=7)) as server:
        yield server


@pytest.fixture
def registry(stub, tmp_path) -> ProviderRegistry:
    """Providers pointed at the stub: ``openai/…`` and ``anthropic/…`` models."""
    settings = Settings(
        home=tmp_path,
        openai_api_key="test-key",
        openai_base_url=stub.base_url,
        anthropic_api_key="test-key",
        anthropic_base_url=stub.url,
    )
    return ProviderRegistry(settings, load_plugins=False)
