"""Feedback scores: named numbers (with a reason) that people and metrics give a trace or
a span. Each author holds one score per name on an entity; a new one replaces theirs, and
readers see the authors' scores averaged."""

import datetime as dt
import math
from dataclasses import dataclass

from seedbed.domain.errors import InvalidInput, Unprocessable
from seedbed.domain.ids import canonical_id

ENTITY_TYPES = ("trace", "span")
SCORE_SOURCES = ("ui", "sdk", "online_scoring")
MAX_MAGNITUDE = 1e9


@dataclass
class ScoreDraft:
    """A score as a client sends it; author and project are filled in when it is stored."""

    entity_id: str
    name: str
    value: float
    source: str
    reason: str | None = None
    category_name: str | None = None
    author: str | None = None
    project_name: str | None = None
    project_id: str | None = None

    def __post_init__(self) -> None:
        self.entity_id = canonical_id(self.entity_id)
        if not self.name or not self.name.strip():
            raise InvalidInput("feedback score name must not be blank")
        value = self.value
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise Unprocessable(f"feedback score '{self.name}': value must be a finite number")
        if abs(value) > MAX_MAGNITUDE:
            raise Unprocessable(
                f"feedback score '{self.name}': value must be within ±{MAX_MAGNITUDE:g}"
            )
        if self.source not in SCORE_SOURCES:
            raise Unprocessable(f"feedback score source must be one of {', '.join(SCORE_SOURCES)}")


def fold_scores(drafts: list[ScoreDraft], default_author: str) -> list[ScoreDraft]:
    """One score per (entity, name, author): the last one sent wins, as if sent one by one."""
    folded: dict[tuple[str, str, str], ScoreDraft] = {}
    for draft in drafts:
        folded[(draft.entity_id, draft.name, draft.author or default_author)] = draft
    return list(folded.values())


@dataclass
class FeedbackScore:
    entity_type: str
    entity_id: str
    name: str
    author: str
    workspace: str
    project_id: str | None
    value: float
    reason: str | None
    category_name: str | None
    source: str
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str


@dataclass
class ScoreSummary:
    """The scores of one name on one entity: the authors' mean, and the newest score's
    reason, category and source."""

    name: str
    value: float
    latest: FeedbackScore
    by_author: list[FeedbackScore]

    @property
    def created_at(self) -> dt.datetime:
        return min(score.created_at for score in self.by_author)


def summarize_scores(scores: list[FeedbackScore]) -> list[ScoreSummary]:
    by_name: dict[str, list[FeedbackScore]] = {}
    for score in sorted(scores, key=lambda score: (score.name, score.author)):
        by_name.setdefault(score.name, []).append(score)
    return [
        ScoreSummary(
            name=name,
            value=sum(score.value for score in named) / len(named),
            latest=max(named, key=lambda score: (score.last_updated_at, score.author)),
            by_author=named,
        )
        for name, named in by_name.items()
    ]
