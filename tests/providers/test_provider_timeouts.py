"""Every provider has a timeout of its own, used when a request sets none: configured per
provider in ``SEEDBED_PROVIDERS`` (``timeout_seconds``, null for no limit), and for the
embedded model with ``SEEDBED_LOCAL_TIMEOUT_SECONDS``."""

import asyncio

import pytest

from seedbed.providers.base import (
    CompletionRequest,
    Message,
    ProviderNotConfigured,
    TransientProviderError,
)
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing.llm_stub import StubBehaviour, StubLLMServer


def provider_of(model: str, **settings):
    registry = ProviderRegistry(Settings(**settings), load_plugins=False)
    return registry.resolve(model).provider


def test_hosted_providers_wait_as_long_as_their_sdks_and_the_embedded_model_without_limit():
    assert provider_of("openai/gpt-4o-mini").timeout_seconds == 600
    assert provider_of("anthropic/claude-3-5-haiku-latest").timeout_seconds == 600
    assert provider_of("local/qwen2.5-coder-1.5b-instruct").timeout_seconds is None


def test_the_timeouts_are_configurable():
    configured = {
        "ollama": {"type": "openai", "base_url": "http://127.0.0.1:1/v1", "timeout_seconds": 45},
        "patient": {"type": "anthropic", "timeout_seconds": None},
    }
    assert provider_of("ollama/llama3.1", providers=configured).timeout_seconds == 45
    assert provider_of("patient/claude-x", providers=configured).timeout_seconds is None
    local = provider_of("local/qwen2.5-coder-1.5b-instruct", local_timeout_seconds=300)
    assert local.timeout_seconds == 300


def test_a_timeout_that_is_not_a_positive_number_is_refused_with_its_reason():
    configured = {"ollama": {"type": "openai", "base_url": "http://x/v1", "timeout_seconds": "1m"}}
    with pytest.raises(ProviderNotConfigured, match="timeout_seconds must be a positive number"):
        provider_of("ollama/llama3.1", providers=configured)


@pytest.mark.parametrize(("provider_type", "model"), [("openai", "m"), ("anthropic", "claude-m")])
def test_a_configured_timeout_cuts_a_slow_endpoint(provider_type, model):
    with StubLLMServer(StubBehaviour(latency_ms=5_000)) as stub:
        base_url = stub.base_url if provider_type == "openai" else stub.url
        configured = {
            "slow": {
                "type": provider_type,
                "base_url": base_url,
                "api_key": "test",
                "timeout_seconds": 0.5,
            }
        }
        provider = provider_of(f"slow/{model}", providers=configured)
        request = CompletionRequest(model=model, messages=(Message("user", "Say hi"),))
        # The stub would answer after 5 s: only the timeout makes this call fail.
        with pytest.raises(TransientProviderError, match="(?i)timed out"):
            asyncio.run(provider.complete(request))
