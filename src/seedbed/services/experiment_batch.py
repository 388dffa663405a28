"""Changing many experiments at once (Opik's ``PATCH /experiments/batch``): one update
applied to each, all or none."""

from typing import Any

from sqlalchemy.engine import Connection

from seedbed.domain import ids
from seedbed.services import experiments
from seedbed.services.context import Caller


def update_experiments(
    connection: Connection,
    caller: Caller,
    experiment_ids: list[str],
    changes: dict[str, Any],
    merge_tags: bool = False,
) -> None:
    """Apply ``changes`` to every experiment named; with ``merge_tags``, the tags given
    are added to each experiment's own instead of replacing them. An id that names no
    experiment of the workspace is a NotFound before anything changes."""
    canonical = ids.canonical_ids(experiment_ids, "ids") or []
    experiments.require_experiments(connection, caller, canonical)
    if merge_tags and changes.get("tags") is not None:
        added = [*changes["tags"], *(changes.get("tags_to_add") or [])]
        changes = {**{k: v for k, v in changes.items() if k != "tags"}, "tags_to_add": added}
    for experiment_id in canonical:
        experiments.update_experiment(connection, caller, experiment_id, changes)
