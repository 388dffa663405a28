"""Configured secrets never leave in a provider's error text.

Some endpoints echo the API key they rejected ("Incorrect API key: sk-…"); that text
would otherwise reach API responses, job details, stored rows and the log."""

from collections.abc import Iterable

REDACTED = "[redacted]"
# Shorter values are not secrets worth hiding, and replacing them would garble the text.
_SHORTEST_SECRET = 6


def redacted(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret replaced, longest secrets first (a
    key that contains another is hidden whole)."""
    hidden = sorted(
        {secret for secret in secrets if secret and len(secret) >= _SHORTEST_SECRET},
        key=len,
        reverse=True,
    )
    for secret in hidden:
        text = text.replace(secret, REDACTED)
    return text
