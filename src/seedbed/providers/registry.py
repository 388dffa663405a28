"""Which provider serves a model name, and the providers themselves.

Model names are ``provider/model`` (``openai/gpt-4o-mini``, ``ollama/llama3.1``,
``local/qwen2.5-coder-1.5b-instruct``); the part before the first slash names a
configured provider. Bare names as Opik sends them map by prefix: ``gpt-…``, ``o1…``,
``o3…``, ``o4…`` to ``openai`` and ``claude-…`` to ``anthropic``.

Provider *types* are plugins. A plugin is a function ``register_providers(register)``
exposed under the entry-point group ``seedbed.providers``; it calls
``register(type_name, factory, options=...)`` where ``factory(name, options, settings)``
returns a :class:`~seedbed.providers.base.Provider` and ``options`` names the options the
type takes (``type`` and ``api_key_env`` are everyone's). The built-in types (``openai``,
``anthropic``, ``local``) register the same way. Configured providers come from
``SEEDBED_PROVIDERS`` (JSON: ``{"ollama": {"type": "openai", "base_url": ...}}``) on
top of the three built-in ones. Options are strict: an option the type does not take (a
misspelt ``max_concurency``) is refused, naming it, when the provider is first used.
"""

import contextlib
import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from seedbed.providers.base import COMMON_OPTIONS, Provider, UnknownModel, check_options
from seedbed.providers.concurrency import AdaptiveConcurrency
from seedbed.settings import Settings

ProviderFactory = Callable[[str, Mapping[str, Any], Settings], Provider]
Register = Callable[..., None]  # register(type_name, factory, options=None)

ENTRY_POINT_GROUP = "seedbed.providers"
LOCAL_DEFAULT_MODEL = "local/qwen2.5-coder-1.5b-instruct"
OPENAI_DEFAULT_MODEL = "openai/gpt-4o-mini"
_BARE_NAME_PREFIXES = {
    "gpt-": "openai",
    "chatgpt-": "openai",
    "o1": "openai",
    "o3": "openai",
    "o4": "openai",
    "claude-": "anthropic",
}
_BUILT_IN_PROVIDERS = {
    "openai": {"type": "openai"},
    "anthropic": {"type": "anthropic"},
    "local": {"type": "local"},
}


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    provider: Provider
    model: str  # the provider's own name for it
    concurrency: AdaptiveConcurrency  # shared by every run on this provider

    @property
    def qualified(self) -> str:
        return f"{self.provider.name}/{self.model}"


class ProviderRegistry:
    def __init__(self, settings: Settings, *, load_plugins: bool = True) -> None:
        self.settings = settings
        self._factories: dict[str, ProviderFactory] = {}
        self._option_names: dict[str, frozenset[str]] = {}
        self._configs: dict[str, dict[str, Any]] = {**_BUILT_IN_PROVIDERS, **settings.providers}
        self._providers: dict[str, Provider] = {}
        self._limits: dict[str, AdaptiveConcurrency] = {}
        from seedbed.providers.builtin import register_providers

        register_providers(self.register_type)
        if load_plugins:
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                entry_point.load()(self.register_type)

    def register_type(
        self,
        type_name: str,
        factory: ProviderFactory,
        options: Iterable[str] | None = None,
    ) -> None:
        """``options``: the options the type takes; ``None`` leaves them unchecked (a
        plugin written before options were checked)."""
        self._factories[type_name] = factory
        if options is not None:
            self._option_names[type_name] = frozenset(options) | COMMON_OPTIONS

    def add_provider(self, name: str, provider: Provider) -> None:
        """Serve ``name/...`` models from an already built provider (tests, embedding)."""
        self._providers[name] = provider
        self._configs.setdefault(name, {"type": "instance"})

    @property
    def provider_names(self) -> list[str]:
        return sorted(self._configs)

    def default_model(self) -> str:
        if self.settings.default_model:
            return self.settings.default_model
        if self.settings.openai_api_key:
            return OPENAI_DEFAULT_MODEL
        return LOCAL_DEFAULT_MODEL

    def resolve(self, model_name: str | None) -> ResolvedModel:
        provider_name, model = self.split(model_name or self.default_model())
        provider = self._provider(provider_name, model)
        if provider_name not in self._limits:
            self._limits[provider_name] = AdaptiveConcurrency(provider.max_concurrency)
        return ResolvedModel(provider, model, self._limits[provider_name])

    def split(self, model_name: str) -> tuple[str, str]:
        name = model_name.strip()
        prefix, separator, rest = name.partition("/")
        if separator and prefix in self._configs and rest:
            return prefix, rest
        for bare_prefix, provider_name in _BARE_NAME_PREFIXES.items():
            if name.startswith(bare_prefix):
                return provider_name, name
        if name == LOCAL_DEFAULT_MODEL.split("/", 1)[1]:
            return "local", name
        known = ", ".join(self.provider_names)
        raise UnknownModel(
            prefix if separator else "",
            name,
            f"no configured provider serves model {name!r}; name it 'provider/model' with one of"
            f" the providers {known} (more can be configured with SEEDBED_PROVIDERS)",
        )

    async def aclose(self) -> None:
        """Close the connections the providers opened in the running event loop
        (providers that hold none have no ``aclose``)."""
        for provider in self._providers.values():
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    def _provider(self, name: str, model: str) -> Provider:
        if name not in self._providers:
            options = self._configs[name]
            type_name = options.get("type", name)
            factory = self._factories.get(type_name)
            if factory is None:
                raise UnknownModel(name, model, f"provider {name!r} has unknown type {type_name!r}")
            if type_name in self._option_names:
                check_options(name, options, self._option_names[type_name])
            self._providers[name] = factory(name, _with_key_from_env(options), self.settings)
        return self._providers[name]


# Built-in provider types whose module of the same name is their vendor's SDK, with the
# modules of it that the SDK itself imports only on a client's first call (a second of
# the event loop on a busy machine): the resource that provider calls, and its types.
_PROVIDER_SDKS = {
    "openai": ("openai", "openai.resources.chat.completions"),
    "anthropic": ("anthropic", "anthropic.resources.messages"),
}


def import_provider_sdks(settings: Settings) -> None:
    """Import the SDKs of the configured provider types. The built-in providers import
    theirs on their first call, inside the event loop, which then stands still for a
    second or more; a process that calls this in a thread at start does not."""
    configured = {"openai"} | {str(options.get("type")) for options in settings.providers.values()}
    if settings.anthropic_api_key:
        configured.add("anthropic")
    for name in _PROVIDER_SDKS.keys() & configured:
        for module in _PROVIDER_SDKS[name]:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)


def _with_key_from_env(options: Mapping[str, Any]) -> dict[str, Any]:
    """A configured provider may name the variable holding its key instead of the key."""
    resolved = dict(options)
    variable = resolved.pop("api_key_env", None)
    if variable and not resolved.get("api_key"):
        resolved["api_key"] = os.environ.get(variable)
    return resolved
