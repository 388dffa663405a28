"""A workspace's experiments grouped by fields (dataset, project, a metadata key, tags),
each group with what its experiments add up to."""

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from seedbed.domain.experiment_groups import (
    DATASET_ID,
    DELETED_DATASET,
    Group,
    GroupBy,
    GroupSummary,
    group_experiments,
    groups_at_each_level,
    sorted_labels,
    summarize,
)
from seedbed.domain.queries import ExperimentQuery
from seedbed.services.context import Caller
from seedbed.services.experiments import all_experiments
from seedbed.storage.repositories.datasets import DatasetRepository


@dataclass
class ExperimentGroups:
    levels: list[GroupBy]
    top: dict[str, Group]
    dataset_names: dict[str, str]  # the datasets that still exist, by id

    def label(self, group: Group) -> str:
        """A dataset's name (or Opik's mark for a deleted one); any other value as is."""
        if group.field == DATASET_ID:
            return self.dataset_names.get(group.value, DELETED_DATASET)
        return group.value

    def summary(self, group: Group) -> GroupSummary:
        return summarize(group.members)

    def sorted_labels(self) -> list[list[str]]:
        """Each level's labels in the order to show them: newest experiment first."""
        return [
            sorted_labels(groups, self.label)
            for groups in groups_at_each_level(self.top, len(self.levels))
        ]


def find_groups(
    connection: Connection, caller: Caller, levels: list[GroupBy], query: ExperimentQuery
) -> ExperimentGroups:
    """The experiments matching ``query``, grouped level by level."""
    found = all_experiments(connection, caller, query)
    members = [(view.experiment, view.aggregates) for view in found]
    repository = DatasetRepository(connection)
    names = {}
    for dataset_id in {view.experiment.dataset_id for view in found}:
        dataset = repository.get(caller.workspace, dataset_id)
        if dataset is not None:
            names[dataset_id] = dataset.name
    return ExperimentGroups(levels, group_experiments(members, levels), names)
