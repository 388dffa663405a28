"""SQL for feedback scores."""

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.feedback_scores import FeedbackScore
from seedbed.storage import dialect
from seedbed.storage.repositories import experiment_rollups
from seedbed.storage.tables import feedback_scores, spans, traces

_REPLACED = ("value", "reason", "category_name", "source", "project_id")
_ENTITIES = {"trace": traces, "span": spans}


def _to_score(row) -> FeedbackScore:
    return FeedbackScore(
        **{column: getattr(row, column) for column in FeedbackScore.__dataclass_fields__}
    )


class FeedbackScoreRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def keys_elsewhere(
        self, workspace: str, entity_type: str, keys: list[tuple[str, str, str]]
    ) -> list[tuple]:
        """Which (entity id, name, author) keys another workspace holds."""
        rows = self.connection.execute(
            sa.select(
                feedback_scores.c.entity_id, feedback_scores.c.name, feedback_scores.c.author
            ).where(
                feedback_scores.c.entity_type == entity_type,
                feedback_scores.c.entity_id.in_(sorted({key[0] for key in keys})),
                feedback_scores.c.workspace != workspace,
            )
        )
        wanted = set(keys)
        return [tuple(row) for row in rows if tuple(row) in wanted]

    def put(self, scores: list[FeedbackScore]) -> None:
        """Insert each score, or replace the one its author gave before. Sending the same
        score again changes nothing, not even ``last_updated_at``. Keys must be distinct."""
        table = feedback_scores

        def changes(new) -> dict:
            replaced = {column: new[column] for column in _REPLACED}
            return {
                **replaced,
                "last_updated_at": new.last_updated_at,
                "last_updated_by": new.last_updated_by,
            }

        def when(new):
            changed = sa.or_(
                *(table.c[column].is_distinct_from(new[column]) for column in _REPLACED)
            )
            return sa.and_(table.c.workspace == new.workspace, changed)

        statement = dialect.insert_or_update(self.dialect, table, changes, when)
        self.connection.execute(statement, [score.__dict__ for score in scores])
        for score in scores:
            if score.entity_type == "trace":
                experiment_rollups.note_traces(self.connection, score.workspace, [score.entity_id])

    def of_entities(
        self, workspace: str, entity_type: str, entity_ids: list[str]
    ) -> dict[str, list[FeedbackScore]]:
        rows = self.connection.execute(
            sa.select(feedback_scores).where(
                feedback_scores.c.workspace == workspace,
                feedback_scores.c.entity_type == entity_type,
                feedback_scores.c.entity_id.in_(entity_ids),
            )
        )
        found: dict[str, list[FeedbackScore]] = {entity_id: [] for entity_id in entity_ids}
        for row in rows:
            found[row.entity_id].append(_to_score(row))
        return found

    def delete(
        self, workspace: str, entity_type: str, entity_id: str, name: str, author: str | None = None
    ) -> None:
        """An entity's scores of one name: every author's, or only ``author``'s."""
        where = [
            feedback_scores.c.workspace == workspace,
            feedback_scores.c.entity_type == entity_type,
            feedback_scores.c.entity_id == entity_id,
            feedback_scores.c.name == name,
        ]
        if author is not None:
            where.append(feedback_scores.c.author == author)
        self.connection.execute(feedback_scores.delete().where(*where))
        if entity_type == "trace":
            experiment_rollups.note_traces(self.connection, workspace, [entity_id])

    def delete_in_traces(self, workspace: str, trace_ids: list[str]) -> None:
        """The scores of these traces and of their spans."""
        experiment_rollups.note_traces(self.connection, workspace, trace_ids)
        span_ids = sa.select(spans.c.id).where(
            spans.c.workspace == workspace, spans.c.trace_id.in_(trace_ids)
        )
        self.connection.execute(
            feedback_scores.delete().where(
                feedback_scores.c.workspace == workspace,
                sa.or_(
                    sa.and_(
                        feedback_scores.c.entity_type == "trace",
                        feedback_scores.c.entity_id.in_(trace_ids),
                    ),
                    sa.and_(
                        feedback_scores.c.entity_type == "span",
                        feedback_scores.c.entity_id.in_(span_ids),
                    ),
                ),
            )
        )

    def names(self, workspace: str, entity_type: str, project_id: str | None) -> list[str]:
        """Score names in use, in one project if given. A score counts in its entity's
        project, once the entity is there, wherever the score itself was sent."""
        entities = _ENTITIES[entity_type]
        scores = feedback_scores
        joined = scores.outerjoin(
            entities,
            sa.and_(
                entities.c.id == scores.c.entity_id, entities.c.workspace == scores.c.workspace
            ),
        )
        where = [scores.c.workspace == workspace, scores.c.entity_type == entity_type]
        if project_id is not None:
            where.append(sa.func.coalesce(entities.c.project_id, scores.c.project_id) == project_id)
        query = (
            sa.select(scores.c.name)
            .select_from(joined)
            .where(*where)
            .distinct()
            .order_by(scores.c.name)
        )
        return list(self.connection.execute(query).scalars())
