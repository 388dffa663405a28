"""SQL for comparing experiments item by item: one row per dataset item the experiments
ran, with its score per experiment and score name (the average over its runs)."""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.experiments import SUITE_ASSERTION_CATEGORY
from seedbed.storage.tables import experiment_items, feedback_scores

_items = experiment_items.c
_scores = feedback_scores.c


class ItemScoreRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def score_table(
        self, workspace: str, experiment_ids: Sequence[str], names: Sequence[str]
    ) -> list[sa.Row]:
        """``(dataset_item_id, score, score, …)`` per item any of the experiments ran, in
        id order (ids are time-ordered: the order the items were made); the scores are
        the name-major, experiment-minor grid of ``names`` × ``experiment_ids``, None
        where an experiment gave the item no such score. One row per item rather than
        per score: at 100k items the rows are what costs."""
        grid = [
            sa.func.avg(
                sa.case(
                    (
                        sa.and_(_items.experiment_id == experiment_id, _scores.name == name),
                        _scores.value,
                    )
                )
            )
            for name in names
            for experiment_id in experiment_ids
        ]
        scored = sa.and_(
            _scores.entity_type == "trace",
            _scores.entity_id == _items.trace_id,
            _scores.workspace == workspace,
            _scores.name.in_(names),
            sa.or_(
                _scores.category_name.is_(None),
                _scores.category_name != SUITE_ASSERTION_CATEGORY,
            ),
        )
        query = (
            sa.select(_items.dataset_item_id, *grid)
            .select_from(experiment_items.outerjoin(feedback_scores, scored))
            .where(_items.workspace == workspace, _items.experiment_id.in_(experiment_ids))
            .group_by(_items.dataset_item_id)
            .order_by(_items.dataset_item_id)
        )
        return self.connection.execute(query).all()
