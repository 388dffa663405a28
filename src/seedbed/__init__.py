"""seedbed: grow LLM-evaluation datasets from a handful of seeds.

``seedbed.expand(seeds, n=…, model=…)`` generates new samples in the seeds' shape
(``seedbed.aexpand`` is the async form); see :mod:`seedbed.generation`.
"""

__version__ = "0.1.0"
__all__ = ["__version__", "aexpand", "expand"]


def __getattr__(name: str):
    # The engine pulls in numpy and friends; importing seedbed for its settings or CLI
    # should not pay for that.
    if name in ("expand", "aexpand"):
        from seedbed.generation import library

        return getattr(library, name)
    raise AttributeError(f"module 'seedbed' has no attribute {name!r}")
