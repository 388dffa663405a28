"""Provider options in ``SEEDBED_PROVIDERS`` are strict: an option the provider's type
does not take is refused, naming it, rather than silently ignored."""

import pytest
from fastapi.testclient import TestClient

from seedbed.api.app import create_app
from seedbed.providers.base import ProviderNotConfigured
from seedbed.providers.registry import ProviderRegistry
from seedbed.settings import Settings
from seedbed.testing import StubLLMServer
from tests.api.opik_http import API, create_dataset, put_items


def _registry(tmp_path, **options) -> ProviderRegistry:
    configured = {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k", **options}
    return ProviderRegistry(Settings(home=tmp_path, providers={"mine": configured}))


def test_a_misspelt_option_is_refused_naming_it_and_what_was_meant(tmp_path):
    registry = _registry(tmp_path, max_concurency=4)

    with pytest.raises(ProviderNotConfigured) as refused:
        registry.resolve("mine/some-model")

    assert "'max_concurency'" in str(refused.value)
    assert "did you mean 'max_concurrency'" in str(refused.value)


def test_every_option_of_the_type_is_taken(tmp_path):
    registry = _registry(
        tmp_path,
        max_concurrency=3,
        structured_output="none",
        headers={"X-Team": "evals"},
        timeout_seconds=5,
        api_key_env="MY_KEY",
    )

    assert registry.resolve("mine/some-model").provider.max_concurrency == 3


def test_options_of_another_type_are_refused(tmp_path):
    registry = ProviderRegistry(
        Settings(home=tmp_path, providers={"claude": {"type": "anthropic", "headers": {}}})
    )

    with pytest.raises(ProviderNotConfigured, match="'headers'"):
        registry.resolve("claude/claude-3-5-haiku-latest")


def test_a_plugin_that_declares_no_options_is_not_checked(tmp_path):
    made = {}

    def factory(name, options, settings):
        made.update(options)
        return ProviderRegistry(Settings(home=tmp_path)).resolve("openai/x").provider

    registry = ProviderRegistry(
        Settings(home=tmp_path, providers={"plug": {"type": "legacy", "anything": 1}}),
        load_plugins=False,
    )
    registry.register_type("legacy", factory)
    registry.resolve("plug/model")

    assert made["anything"] == 1


def test_a_request_to_a_misconfigured_provider_is_a_400_naming_the_option(
    settings, database, tmp_path
):
    with StubLLMServer() as stub:
        settings.providers = {
            "typo": {"type": "openai", "base_url": stub.base_url, "max_concurency": 2}
        }
        with TestClient(create_app(settings, database)) as client:
            dataset_id = create_dataset(client, "seeds")
            put_items(client, dataset_id, [{"data": {"question": "Where is my order?"}}])
            response = client.post(
                f"{API}/datasets/{dataset_id}/expansions",
                json={"model": "typo/any-model", "sample_count": 2},
            )

        assert stub.stats["requests"] == 0

    assert response.status_code == 400, response.text
    assert "max_concurency" in response.json()["message"]
