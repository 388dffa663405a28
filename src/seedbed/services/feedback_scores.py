"""Feedback scores of traces and spans, stored whether or not the trace or span has
arrived yet."""

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.domain.errors import Conflict
from seedbed.domain.feedback_scores import FeedbackScore, ScoreDraft, fold_scores
from seedbed.services import projects
from seedbed.services.context import Caller, utcnow
from seedbed.services.tracing import ProjectResolver
from seedbed.storage.repositories.feedback_scores import FeedbackScoreRepository
from seedbed.storage.repositories.spans import SpanRepository
from seedbed.storage.repositories.traces import TraceRepository
from seedbed.storage.repositories.tracing import MergedRowRepository


def _entities(connection: Connection, entity_type: str) -> MergedRowRepository:
    return TraceRepository(connection) if entity_type == "trace" else SpanRepository(connection)


def put_scores(
    connection: Connection, caller: Caller, entity_type: str, drafts: list[ScoreDraft]
) -> None:
    """Store scores; each replaces the one its author (the caller, unless named) gave
    under that name. A score goes to the project it names, else its entity's project,
    else the default project."""
    drafts = fold_scores(drafts, caller.user)
    entity_ids = [draft.entity_id for draft in drafts]
    resolver = ProjectResolver(connection, caller)
    entity_projects = _entities(connection, entity_type).project_ids(caller.workspace, entity_ids)
    now = utcnow()
    scores = [
        FeedbackScore(
            entity_type=entity_type,
            entity_id=entity_id,
            name=draft.name,
            author=draft.author or caller.user,
            workspace=caller.workspace,
            project_id=resolver.resolve(draft.project_name, draft.project_id)
            or entity_projects.get(entity_id)
            or resolver.default(),
            value=float(draft.value),
            reason=draft.reason,
            category_name=draft.category_name,
            source=draft.source,
            created_at=now,
            created_by=caller.user,
            last_updated_at=now,
            last_updated_by=caller.user,
        )
        for entity_id, draft in zip(entity_ids, drafts, strict=True)
    ]
    repository = FeedbackScoreRepository(connection)
    taken = repository.keys_elsewhere(
        caller.workspace, entity_type, [(s.entity_id, s.name, s.author) for s in scores]
    )
    if taken:
        raise Conflict(
            f"a feedback score of {entity_type} {taken[0][0]} already exists in another workspace"
        )
    repository.put(scores)


def delete_score(
    connection: Connection,
    caller: Caller,
    entity_type: str,
    entity_id: str,
    name: str,
    author: str | None = None,
) -> None:
    """Delete a score by name: every author's, or only ``author``'s."""
    entity_id = ids.canonical_id(entity_id, f"{entity_type} id")
    FeedbackScoreRepository(connection).delete(
        caller.workspace, entity_type, entity_id, name, author
    )


def score_names(
    connection: Connection, caller: Caller, entity_type: str, project_id: str | None
) -> list[str]:
    """Names of the scores given in a project (or the whole workspace), sorted."""
    if project_id is not None:
        project_id = projects.get_project(connection, caller, project_id).id
    return FeedbackScoreRepository(connection).names(caller.workspace, entity_type, project_id)
