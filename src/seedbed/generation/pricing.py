"""What a call costs, from a table of known models (USD per million tokens).

The table can be extended or overridden per run (``GenerationSpec.prices``) or by
settings; a model that is not in it costs 0 and is reported as unpriced.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from seedbed.providers.base import Usage


@dataclass(frozen=True, slots=True)
class Price:
    input_per_million: float
    output_per_million: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.prompt_tokens * self.input_per_million
            + usage.completion_tokens * self.output_per_million
        ) / 1_000_000


KNOWN_PRICES: dict[str, Price] = {
    "openai/gpt-4o": Price(2.50, 10.00),
    "openai/gpt-4o-mini": Price(0.15, 0.60),
    "openai/gpt-4.1": Price(2.00, 8.00),
    "openai/gpt-4.1-mini": Price(0.40, 1.60),
    "openai/gpt-4.1-nano": Price(0.10, 0.40),
    "openai/gpt-5": Price(1.25, 10.00),
    "openai/gpt-5-mini": Price(0.25, 2.00),
    "openai/gpt-5-nano": Price(0.05, 0.40),
    "openai/o3": Price(2.00, 8.00),
    "openai/o4-mini": Price(1.10, 4.40),
    "anthropic/claude-3-5-haiku-latest": Price(0.80, 4.00),
    "anthropic/claude-haiku-4-5": Price(1.00, 5.00),
    "anthropic/claude-sonnet-4-5": Price(3.00, 15.00),
    "anthropic/claude-sonnet-4-0": Price(3.00, 15.00),
    "anthropic/claude-opus-4-1": Price(15.00, 75.00),
}
FREE = Price(0.0, 0.0)


def price_of(qualified_model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``provider/model``; local models are free; None when unknown."""
    table = {**KNOWN_PRICES, **(overrides or {})}
    if qualified_model in table:
        return table[qualified_model]
    if qualified_model.startswith("local/"):
        return FREE
    return None
