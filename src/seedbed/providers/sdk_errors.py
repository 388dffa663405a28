"""Vendor SDK exceptions as the provider contract's errors.

The official ``openai`` and ``anthropic`` SDKs are generated from the same template and
share their exception names, so one translation serves both. The translated error
carries the endpoint's message with the provider's secrets removed."""

from collections.abc import Iterable
from typing import Any

from seedbed.providers.base import (
    ProviderError,
    ProviderNotConfigured,
    RateLimited,
    TransientProviderError,
    UnknownModel,
    retry_after_seconds,
)
from seedbed.providers.redaction import redacted


def translated(
    sdk: Any, provider: str, model: str, error: Exception, secrets: Iterable[str | None] = ()
) -> Exception:
    """The contract error for ``error``, with ``secrets`` taken out of its message, or
    ``error`` itself when it is not an answer of the endpoint (raise either ``from None``:
    the SDK's own exception text may hold what was taken out)."""
    message = redacted(_message(error), secrets)
    if isinstance(error, sdk.RateLimitError):
        return RateLimited(provider, model, message, retry_after_seconds(error))
    if isinstance(error, sdk.APITimeoutError | sdk.APIConnectionError | sdk.InternalServerError):
        return TransientProviderError(provider, model, message)
    if isinstance(error, sdk.AuthenticationError | sdk.PermissionDeniedError):
        return ProviderNotConfigured(
            provider, model, f"the endpoint rejected the API key ({message})"
        )
    if isinstance(error, sdk.NotFoundError):
        return UnknownModel(provider, model, f"the endpoint does not serve this model ({message})")
    if isinstance(error, sdk.APIStatusError):
        if error.status_code >= 500:
            return TransientProviderError(provider, model, message)
        return ProviderError(provider, model, message)
    return error


def _message(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(error)
