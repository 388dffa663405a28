"""The generation engine: seeds and a spec in, exactly N new valid unique samples out."""

from seedbed.generation.cache import MemoryResponseCache, ResponseCache
from seedbed.generation.engine import GenerationRun
from seedbed.generation.result import GeneratedSample, GenerationResult, GenerationStats, Provenance
from seedbed.generation.spec import Budget, GenerationSpec, SeedItem

__all__ = [
    "Budget",
    "GeneratedSample",
    "GenerationResult",
    "GenerationRun",
    "GenerationSpec",
    "GenerationStats",
    "MemoryResponseCache",
    "Provenance",
    "ResponseCache",
    "SeedItem",
]
