"""Exact and near-duplicate detection for generated samples.

A sample's *text* is its values (keys sorted, nested values flattened, ``preserve_fields``
left out so a shared category does not make two samples look alike), normalized:
lower case, punctuation removed, whitespace collapsed.

- **Exact duplicate**: the same normalized text.
- **Near duplicate**: the Jaccard similarity of the two samples' sets of distinct words
  is at least ``threshold`` (0.75 by default): "How do I reset my password?" and "how do
  I reset my email password" (6 of 7 words shared, 0.86) are near duplicates; "What is
  2+2?" and "What is 3+3?" (0.5) are not. Candidates come from MinHash LSH (datasketch),
  then the exact Jaccard of the word sets decides, so the threshold is exact, not
  approximate.
"""

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from datasketch import MinHash, MinHashLSH

DEFAULT_SIMILARITY_THRESHOLD = 0.75
_PERMUTATIONS = 64
_WORD = re.compile(r"\w+", re.UNICODE)


def sample_text(sample: Mapping[str, Any], ignored_fields: Iterable[str] = ()) -> str:
    ignored = set(ignored_fields)
    kept = {key: value for key, value in sample.items() if key not in ignored}
    return " ".join(_flatten(kept or sample))


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD.findall(folded))


def word_set(text: str) -> frozenset[str]:
    """The distinct normalized words of ``text``: what near-duplicate similarity compares."""
    return frozenset(normalize(text).split())


def similarity(left: frozenset[str], right: frozenset[str]) -> float:
    """The Jaccard similarity of two word sets (1.0 for two empty ones)."""
    return _jaccard(left, right)


def text_digest(text: str) -> str:
    """A short digest of the normalized text: equal for exact duplicates."""
    return _digest(normalize(text))


class NearDuplicateFilter:
    """Remembers accepted texts and tells whether a new one repeats any of them."""

    def __init__(self, threshold: float = DEFAULT_SIMILARITY_THRESHOLD) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("the similarity threshold must be in (0, 1]")
        self.threshold = threshold
        self._exact: set[str] = set()
        self._words: dict[str, frozenset[str]] = {}
        # LSH only works for thresholds it can band; 1.0 means exact matches only.
        self._lsh = (
            MinHashLSH(threshold=threshold, num_perm=_PERMUTATIONS) if threshold < 1 else None
        )

    def __len__(self) -> int:
        return len(self._exact)

    def verdict(self, text: str) -> str | None:
        """``"duplicate"``, ``"near_duplicate"`` or None (new)."""
        normalized = normalize(text)
        if _digest(normalized) in self._exact:
            return "duplicate"
        if self._lsh is None:
            return None
        words = frozenset(normalized.split())
        for key in self._lsh.query(_minhash(words)):
            if _jaccard(words, self._words[key]) >= self.threshold:
                return "near_duplicate"
        return None

    def add(self, text: str) -> None:
        normalized = normalize(text)
        digest = _digest(normalized)
        if digest in self._exact:
            return
        self._exact.add(digest)
        if self._lsh is not None:
            words = frozenset(normalized.split())
            self._words[digest] = words
            self._lsh.insert(digest, _minhash(words))

    def add_if_new(self, text: str) -> str | None:
        """Adds ``text`` unless it repeats a known one; returns the verdict."""
        verdict = self.verdict(text)
        if verdict is None:
            self.add(text)
        return verdict


def _flatten(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for key in sorted(value):
            yield from _flatten(value[key])
    elif isinstance(value, list):
        for element in value:
            yield from _flatten(element)
    elif isinstance(value, str):
        yield value
    elif value is not None:
        yield json.dumps(value)


@functools.lru_cache(maxsize=4096)
def _minhash(words: frozenset[str]) -> MinHash:
    """Cached: a sample is judged and then remembered, by its own run and by the other
    runs of its job in the same process, each time with the same words. The LSH reads a
    MinHash and never changes it, so one object can serve them all."""
    minhash = _empty_minhash().copy()
    minhash.update_batch([word.encode() for word in words] or [b""])
    return minhash


@functools.cache
def _empty_minhash() -> MinHash:
    """Drawing the random permutations is most of a new MinHash's cost; they depend only
    on the seed, and a copy shares them."""
    return MinHash(num_perm=_PERMUTATIONS)


def _jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    if not left and not right:
        return 1.0
    return len(left & right) / len(left | right)


def _digest(normalized: str) -> str:
    return hashlib.blake2b(normalized.encode(), digest_size=16).hexdigest()
