"""Shared frames: many samples whose text opens or closes with the same words.

A small model asked for varied samples often varies only the middle: every question
"I need to … Can you help me with that?", every answer "Absolutely! Here are the steps
to …". No two samples are duplicates, yet a reader sees one template. For each long
text field, the commonest opening and closing words among the samples are reported with
the share of samples that carry them, beside the share of seeds that do, so a frame the
seeds never had stands out; and the judge refuses a text whose frame already opens (or
closes) more than a quarter of the accepted texts of its field (:class:`FrameCap`).
"""

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from seedbed.generation.dedup import normalize
from seedbed.generation.shape import values_at

FRAME_WORDS = 3

Frame = tuple[str, ...]


def shared_frames(
    paths: Sequence[str],
    seeds: Sequence[Mapping[str, Any]],
    samples: Sequence[Mapping[str, Any]],
    words: int = FRAME_WORDS,
) -> dict[str, dict[str, Any]]:
    """``{path: {"opening": {...}, "closing": {...}}}``, each with the commonest frame's
    ``words``, its ``share`` among the samples and ``seeds_share``; a path whose samples
    have fewer than two texts long enough to have a frame is left out."""
    ends: dict[str, Callable[[list[str]], Frame]] = {
        "opening": lambda text: tuple(text[:words]),
        "closing": lambda text: tuple(text[-words:]),
    }
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        sample_words = _framed(samples, path, words)
        if len(sample_words) < 2:
            continue
        seed_words = _framed(seeds, path, words)
        found[path] = {
            end: _commonest(frame_of, sample_words, seed_words) for end, frame_of in ends.items()
        }
    return found


def _framed(items: Sequence[Mapping[str, Any]], path: str, words: int) -> list[list[str]]:
    """The words of every text at ``path`` long enough to have an opening and a closing
    that differ."""
    texts = [value for item in items for value in values_at(item, path) if isinstance(value, str)]
    split = [normalize(text).split() for text in texts]
    return [text for text in split if len(text) > words]


def _commonest(
    frame_of: Callable[[list[str]], Frame],
    sample_words: list[list[str]],
    seed_words: list[list[str]],
) -> dict[str, Any]:
    frame, count = Counter(frame_of(text) for text in sample_words).most_common(1)[0]
    in_seeds = sum(1 for text in seed_words if frame_of(text) == frame)
    return {
        "words": " ".join(frame),
        "share": round(count / len(sample_words), 2),
        "seeds_share": round(in_seeds / len(seed_words), 2) if seed_words else None,
    }


class FrameCap:
    """The frames of one top-level text field among accepted samples. A text whose
    opening or closing words are already carried by more than ``share`` of them (at
    least ``floor`` texts, and never less than the seeds' own share of that frame) is
    one frame too many."""

    def __init__(
        self,
        path: str,
        seeds: Sequence[Mapping[str, Any]],
        *,
        share: float = 0.25,
        floor: int = 2,
        words: int = FRAME_WORDS,
    ) -> None:
        self.path = path
        self.share = share
        self.floor = floor
        self.words = words
        self._texts = 0
        self._carried: Counter[tuple[str, Frame]] = Counter()
        seed_texts = _framed(seeds, path, words)
        self._seed_count = len(seed_texts)
        self._in_seeds = Counter(end for text in seed_texts for end in self._ends(text))

    def overused(self, sample: Mapping[str, Any]) -> str | None:
        """The frame that ``sample`` would carry once too often, or None."""
        for text in _framed([sample], self.path, self.words):
            for end, frame in self._ends(text):
                allowed = max(self.floor, math.ceil(self._allowed_share(end, frame) * self._texts))
                if self._carried[end, frame] >= allowed:
                    return f"{end} words {' '.join(frame)!r}"
        return None

    def add(self, sample: Mapping[str, Any]) -> None:
        for text in _framed([sample], self.path, self.words):
            self._texts += 1
            self._carried.update(self._ends(text))

    def _ends(self, text: list[str]) -> list[tuple[str, Frame]]:
        return [("opening", tuple(text[: self.words])), ("closing", tuple(text[-self.words :]))]

    def _allowed_share(self, end: str, frame: Frame) -> float:
        if not self._seed_count:
            return self.share
        return max(self.share, self._in_seeds[end, frame] / self._seed_count)
