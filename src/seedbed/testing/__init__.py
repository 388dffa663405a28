"""Test doubles that speak real protocols, for seedbed's tests and benchmarks.

:class:`StubLLMServer` is a fake LLM on a local port, answering OpenAI chat completions
and Anthropic Messages requests the way a :class:`StubBehaviour` says.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seedbed.testing.llm_stub import StubBehaviour, StubLLMServer

__all__ = ["StubBehaviour", "StubLLMServer"]


def __getattr__(name: str) -> Any:
    # Imported on first use, not here: `python -m seedbed.testing.llm_stub` imports this
    # package first, and an eager import would load the module twice and make runpy warn.
    if name in __all__:
        from seedbed.testing import llm_stub

        return getattr(llm_stub, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
