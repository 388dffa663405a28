"""The counters of a stub LLM server, as ``stub.stats`` and ``GET /stats`` show them.

``by_status`` counts completion requests by HTTP status; ``by_kind`` counts each error
reply once and each choice of a 200 reply once (a request with ``n=3`` adds three).
Samples and injected duplicates count only in choices a client can read: a malformed
or truncated choice delivers none.
"""

import threading
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

CALLS_KEPT = 1_000
REPLY_KINDS = ("ok", "fenced", "prose", "malformed", "rate_limited", "server_error", "bad_request")


@dataclass(slots=True)
class Outcome:
    """What one completion request did, as the stats count it."""

    body: Any
    status: int
    kinds: list[str]
    samples: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    flawed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: int = 0


class StubStats:
    """The counters of one server, updated from its request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._clear()

    def _clear(self) -> None:
        self._totals: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._by_kind: Counter[str] = Counter({kind: 0 for kind in REPLY_KINDS})
        self._calls: deque[Any] = deque(maxlen=CALLS_KEPT)
        # Requests still running when the counters are reset keep counting as in flight.
        self._max_in_flight = self._in_flight

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self._calls.append(outcome.body)
            self._by_status[str(outcome.status)] += 1
            self._by_kind.update(outcome.kinds)
            self._totals.update(
                requests=1,
                samples_returned=outcome.samples,
                duplicates_injected=outcome.duplicates,
                near_duplicates_injected=outcome.near_duplicates,
                flaws_injected=outcome.flawed,
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
                truncated=outcome.truncated,
            )

    def reset(self) -> None:
        with self._lock:
            self._clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            totals = {
                key: self._totals[key]
                for key in (
                    "requests",
                    "samples_returned",
                    "duplicates_injected",
                    "near_duplicates_injected",
                    "flaws_injected",
                    "prompt_tokens",
                    "completion_tokens",
                    "truncated",
                )
            }
            return {
                **totals,
                "by_status": dict(self._by_status),
                "by_kind": dict(self._by_kind),
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
                "calls": list(self._calls),
            }
