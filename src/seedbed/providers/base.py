"""The provider contract: what the generation engine needs from any LLM.

A provider turns one :class:`CompletionRequest` into one :class:`Completion`. It says
what it can do through capability flags, and reports failures with the exceptions
below so the engine can decide between waiting, retrying and giving up::

    ProviderError                   any failure of a provider (the engine counts them)
    ├── ProviderNotConfigured       no key / no weights / SDK not installed: never retried
    ├── UnknownModel                the provider does not serve that model: never retried
    ├── RateLimited                 429: retried after ``retry_after`` seconds if given
    └── TransientProviderError      5xx, timeouts, dropped connections: retried with backoff

Vendor SDKs are imported lazily inside the provider modules, so seedbed imports and
runs with none of them installed.
"""

import difflib
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from seedbed.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    model: str  # the provider's own model name, without the "provider/" prefix
    messages: tuple[Message, ...]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    # When set, the reply must be one JSON value matching this schema. Providers with a
    # native structured-output mode (OpenAI response_format, llama.cpp grammars) use it;
    # the others only see it through the prompt.
    json_schema: Mapping[str, Any] | None = None
    # Varies otherwise identical calls (and is sent where the provider accepts a seed),
    # so the response cache never hands one call's reply to another.
    seed: int | None = None
    timeout_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None  # "stop", "length", ...
    raw: Mapping[str, Any] | None = None


@runtime_checkable
class Provider(Protocol):
    """One configured provider. ``name`` is the prefix in ``provider/model``."""

    name: str
    # True when the provider enforces ``CompletionRequest.json_schema`` itself.
    supports_json_schema: bool
    # How many calls this provider should have in flight at most (the engine may go lower).
    max_concurrency: int

    async def complete(self, request: CompletionRequest) -> Completion: ...

    # A provider that holds connections may also define ``async def aclose(self)``,
    # closing those of the running event loop; ``ProviderRegistry.aclose`` calls it.


class ProviderError(Exception):
    def __init__(self, provider: str, model: str, message: str) -> None:
        prefix = f"{provider}/{model}" if provider and model else provider or model
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.provider = provider
        self.model = model
        self.message = message


class ProviderNotConfigured(ProviderError, InvalidInput):
    """A key, a base URL, model weights or an optional package is missing."""

    def __init__(self, provider: str, model: str, message: str) -> None:
        ProviderError.__init__(self, provider, model, message)
        InvalidInput.__init__(self, str(self))


class UnknownModel(ProviderError, InvalidInput):
    def __init__(self, provider: str, model: str, message: str = "") -> None:
        ProviderError.__init__(
            self, provider, model, message or f"provider {provider!r} has no model {model!r}"
        )
        InvalidInput.__init__(self, str(self))


class RateLimited(ProviderError):
    def __init__(self, provider: str, model: str, message: str, retry_after: float | None = None):
        super().__init__(provider, model, message)
        self.retry_after = retry_after


class TransientProviderError(ProviderError):
    pass


# Options every provider type takes: its type, and the variable holding its key.
COMMON_OPTIONS = frozenset({"type", "api_key_env"})


def check_options(provider: str, options: Mapping[str, Any], accepted: Set[str]) -> None:
    """Refuse an option the provider's type does not take, naming it (and what it was
    probably meant to be): a misspelt option would otherwise be silently ignored."""
    unknown = sorted(set(options) - set(accepted))
    if not unknown:
        return
    problems = []
    for option in unknown:
        close = difflib.get_close_matches(option, sorted(accepted), n=1)
        problems.append(f"{option!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ProviderNotConfigured(
        provider,
        "",
        f"unknown option {', '.join(problems)} in its configuration (SEEDBED_PROVIDERS);"
        f" the options of its type are: {', '.join(sorted(accepted))}",
    )


def retry_after_seconds(error: Any) -> float | None:
    """The wait an HTTP error's ``Retry-After`` (or ``retry-after-ms``) header asks for."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    for header in ("retry-after-ms", "retry-after"):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        return seconds / 1000 if header.endswith("-ms") else seconds
    return None
