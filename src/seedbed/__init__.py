"""seedbed: grow LLM-evaluation datasets from a handful of seeds."""

__version__ = "0.1.0"
