"""What a provider call is doing while it runs, for providers that can tell.

A call to a hosted model is a wait; a call to the embedded model can take a minute and
first has to assemble and load the weights. A provider reports its stage and the tokens
it has produced with :func:`report`; whoever made the call listens with
:func:`listening`. The listener travels with the call's context (``contextvars``), into
the worker thread that ``asyncio.to_thread`` runs it in, so the provider contract needs no
extra argument and providers that cannot tell simply never report.

Listeners may be called from a worker thread: they must be quick and thread-safe.
"""

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

# The stages a call reports, in the order they happen.
ASSEMBLING_WEIGHTS = "assembling_weights"
LOADING_MODEL = "loading_model"
READING_PROMPT = "reading_prompt"
WRITING = "writing"


@dataclass(frozen=True, slots=True)
class CallProgress:
    stage: str
    completion_tokens: int = 0  # produced so far by this call


ProgressListener = Callable[[CallProgress], None]

_listener: ContextVar[ProgressListener | None] = ContextVar("seedbed_call_progress", default=None)


def report(progress: CallProgress) -> None:
    """Tell the caller of the running call (if it listens) what the call is doing."""
    listener = _listener.get()
    if listener is not None:
        listener(progress)


@contextlib.contextmanager
def listening(listener: ProgressListener) -> Iterator[None]:
    """Calls made inside this block (and the tasks and threads they start) report to
    ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
