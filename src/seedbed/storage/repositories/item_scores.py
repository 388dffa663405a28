"""SQL for comparing experiments item by item: every item's score per experiment (the
average over the item's runs), and which items the experiments ran."""

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedbed.domain.experiments import SUITE_ASSERTION_CATEGORY
from seedbed.storage.tables import experiment_items, feedback_scores

_items = experiment_items.c
_scores = feedback_scores.c


class ItemScoreRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def scores(self, workspace: str, experiment_ids: list[str]) -> list[sa.Row]:
        """``(experiment_id, dataset_item_id, name, value)`` for every scored item of the
        experiments, assertions left out."""
        query = (
            sa.select(
                _items.experiment_id,
                _items.dataset_item_id,
                _scores.name,
                sa.func.avg(_scores.value).label("value"),
            )
            .select_from(
                experiment_items.join(
                    feedback_scores,
                    sa.and_(
                        _scores.entity_type == "trace",
                        _scores.entity_id == _items.trace_id,
                        _scores.workspace == workspace,
                    ),
                )
            )
            .where(
                _items.workspace == workspace,
                _items.experiment_id.in_(experiment_ids),
                sa.or_(
                    _scores.category_name.is_(None),
                    _scores.category_name != SUITE_ASSERTION_CATEGORY,
                ),
            )
            .group_by(_items.experiment_id, _items.dataset_item_id, _scores.name)
        )
        return self.connection.execute(query).all()

    def item_ids(self, workspace: str, experiment_ids: list[str]) -> list[str]:
        """The dataset items any of the experiments ran, in id order (ids are time-ordered
        UUIDv7s: the order the items were made)."""
        query = (
            sa.select(_items.dataset_item_id)
            .where(_items.workspace == workspace, _items.experiment_id.in_(experiment_ids))
            .distinct()
            .order_by(_items.dataset_item_id)
        )
        return list(self.connection.execute(query).scalars())
