"""The built-in provider types, registered exactly as a third-party plugin would be."""

from collections.abc import Mapping
from typing import Any

from seedbed.providers.base import Provider, ProviderNotConfigured
from seedbed.settings import Settings

_REMOTE_OPTIONS = ("api_key", "base_url", "max_concurrency", "timeout_seconds")


def register_providers(register) -> None:
    register(
        "openai",
        _openai,
        options=(*_REMOTE_OPTIONS, "structured_output", "azure_api_version", "headers"),
    )
    register("anthropic", _anthropic, options=_REMOTE_OPTIONS)
    register("local", _local, options=("model_path", "allow_model_paths", "timeout_seconds"))


def _openai(name: str, options: Mapping[str, Any], settings: Settings) -> Provider:
    from seedbed.providers.openai import DEFAULT_TIMEOUT_SECONDS, OpenAICompatibleProvider

    is_default = name == "openai"
    return OpenAICompatibleProvider(
        name,
        api_key=options.get("api_key") or (settings.openai_api_key if is_default else None),
        base_url=options.get("base_url") or (settings.openai_base_url if is_default else None),
        max_concurrency=int(options.get("max_concurrency", 16)),
        structured_output=options.get("structured_output", "json_schema"),
        azure_api_version=options.get("azure_api_version"),
        default_headers=options.get("headers"),
        timeout_seconds=_timeout_option(name, options, DEFAULT_TIMEOUT_SECONDS),
    )


def _anthropic(name: str, options: Mapping[str, Any], settings: Settings) -> Provider:
    from seedbed.providers.anthropic import DEFAULT_TIMEOUT_SECONDS, AnthropicProvider

    is_default = name == "anthropic"
    return AnthropicProvider(
        name,
        api_key=options.get("api_key") or (settings.anthropic_api_key if is_default else None),
        base_url=options.get("base_url") or (settings.anthropic_base_url if is_default else None),
        max_concurrency=int(options.get("max_concurrency", 8)),
        timeout_seconds=_timeout_option(name, options, DEFAULT_TIMEOUT_SECONDS),
    )


def _local(name: str, options: Mapping[str, Any], settings: Settings) -> Provider:
    from seedbed.providers.local import LocalProvider

    path = options.get("model_path") or settings.local_model_path or None
    return LocalProvider(
        path,
        cache_dir=settings.home / "models",
        allow_model_paths=bool(options.get("allow_model_paths", False)),
        timeout_seconds=_timeout_option(name, options, settings.local_timeout_seconds),
    )


def _timeout_option(name: str, options: Mapping[str, Any], default: float | None) -> float | None:
    """The provider's ``timeout_seconds`` option (null: no limit), else ``default``."""
    value = options.get("timeout_seconds", default)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise ProviderNotConfigured(
        name, "", f"timeout_seconds must be a positive number of seconds or null, not {value!r}"
    )
