"""LLM providers: a small contract (``base``), the built-in plugins and the registry."""

from seedbed.providers.base import (
    Completion,
    CompletionRequest,
    Message,
    Provider,
    ProviderError,
    ProviderNotConfigured,
    RateLimited,
    TransientProviderError,
    UnknownModel,
    Usage,
)

__all__ = [
    "Completion",
    "CompletionRequest",
    "Message",
    "Provider",
    "ProviderError",
    "ProviderNotConfigured",
    "RateLimited",
    "TransientProviderError",
    "UnknownModel",
    "Usage",
]
