"""The compare view reads runs kept as writes arrive; after any sequence of writes its
pages must equal what a straightforward computation over the stored experiment items,
traces, spans, scores and item rows gives: the same items in the same order, the same
total, the same runs and the same stats.

Random sequences of writes (late traces and scores, re-scores, deleted scores, traces,
experiment items and dataset items, new versions, edits of a version still being written
under one batch group, restores, experiments pinned to the draft or to older versions),
on both engines."""

import random
from collections import defaultdict
from statistics import fmean

import pytest
import sqlalchemy as sa

from seedbed.domain import ids
from seedbed.domain.experiments import SUITE_ASSERTION_CATEGORY
from seedbed.domain.feedback_scores import ScoreDraft
from seedbed.domain.items import ItemDraft
from seedbed.domain.queries import CompareViewQuery
from seedbed.services import (
    compare,
    datasets,
    experiment_items,
    experiments,
    feedback_scores,
    items,
    versions,
)
from seedbed.storage import tables
from tests.services.test_experiment_rollups import CALLER, _World

DATASET = "rollups"
TOPICS = ["billing", "refunds", "shipping"]


class _VersionedWorld(_World):
    """The rollup test's writes, plus the dataset's own: its items change, versions come
    and go, and experiments pin different versions (the first ones the draft)."""

    def __init__(self, rng: random.Random, database) -> None:
        super().__init__(rng, database)
        self.group: str | None = None

    def _dataset(self, connection):
        return datasets.get_or_create_by_name(connection, CALLER, DATASET)

    def write_items(self, connection) -> None:
        chosen = self.rng.sample(self.dataset_items, self.rng.randint(1, 3))
        drafts = [
            ItemDraft(
                id=item_id,
                data={"topic": self.rng.choice(TOPICS), "question": f"q{self.rng.randint(0, 3)}"},
            )
            for item_id in chosen
        ]
        if self.rng.random() < 0.5:  # a batch group continues the version it made
            self.group = self.group if self.group and self.rng.random() < 0.7 else ids.new_id()
            items.upsert_items(
                connection, CALLER, drafts, dataset_name=DATASET, batch_group_id=self.group
            )
        else:
            items.upsert_items(connection, CALLER, drafts, dataset_name=DATASET)

    def delete_items(self, connection) -> None:
        dataset = self._dataset(connection)
        group = self.group if self.group and self.rng.random() < 0.5 else None
        items.delete_items(
            connection,
            CALLER,
            self.rng.sample(self.dataset_items, 1),
            dataset_id=dataset.id,
            batch_group_id=group,
        )

    def restore(self, connection) -> None:
        dataset = self._dataset(connection)
        if dataset.latest_version_sequence > 1:
            sequence = self.rng.randint(1, dataset.latest_version_sequence - 1)
            versions.restore_version(connection, CALLER, dataset.id, f"v{sequence}")

    def pin_an_older_version(self, connection) -> None:
        dataset = self._dataset(connection)
        if dataset.latest_version_sequence < 1:
            return
        found = versions.list_versions(connection, CALLER, dataset.id, 1, 100)
        version = self.rng.choice(found.content)
        gone = self.experiments.pop(0)
        experiments.delete_experiments(connection, CALLER, [gone])
        experiment_id = ids.new_id()
        experiments.create_experiment(
            connection, CALLER, DATASET, experiment_id=experiment_id, dataset_version_id=version.id
        )
        self.experiments.append(experiment_id)

    def step(self, connection) -> None:
        own = [
            (self.write_items, 3),
            (self.delete_items, 1),
            (self.restore, 0.3),
            (self.pin_an_older_version, 0.3),
        ]
        if self.rng.random() < 0.3:
            choose = self.rng.choices([w for w, _ in own], weights=[n for _, n in own])[0]
            choose(connection)
        else:
            super().step(connection)


def _stored(connection, dataset_id: str):
    """Everything the compare view is computed from, read as stored."""

    def rows(query):
        return connection.execute(query).all()

    return {
        "runs": rows(
            sa.select(tables.experiment_items).where(
                tables.experiment_items.c.workspace == CALLER.workspace
            )
        ),
        "experiments": {row.id: row for row in rows(sa.select(tables.experiments))},
        "item_rows": rows(
            sa.select(tables.dataset_items).where(tables.dataset_items.c.dataset_id == dataset_id)
        ),
        "scores": rows(
            sa.select(tables.feedback_scores).where(tables.feedback_scores.c.entity_type == "trace")
        ),
        "traces": {row.id: row for row in rows(sa.select(tables.traces))},
        "spans": rows(sa.select(tables.spans)),
    }


def _visible(row, sequence: int) -> bool:
    if sequence == 0:
        return row.valid_to is None
    return row.valid_from <= sequence and (row.valid_to is None or row.valid_to > sequence)


class _Expected:
    """The compare view computed in Python from the stored data."""

    def __init__(self, stored, dataset_id: str, experiment_ids: list[str]) -> None:
        self.stored = stored
        self.dataset_id = dataset_id
        per_name = defaultdict(list)
        for score in stored["scores"]:
            if score.category_name != SUITE_ASSERTION_CATEGORY:
                per_name[(score.entity_id, score.name)].append(score.value)
        self.score = {key: fmean(values) for key, values in per_name.items()}
        costs = defaultdict(list)
        for span in stored["spans"]:
            if span.total_estimated_cost is not None:
                costs[span.trace_id].append(span.total_estimated_cost)
        self.cost = {trace_id: sum(values) for trace_id, values in costs.items()}
        self.runs = [run for run in stored["runs"] if run.experiment_id in experiment_ids]

    def duration(self, run):
        trace = self.stored["traces"].get(run.trace_id)
        return trace.duration_ms if trace else None

    def output(self, run):
        trace = self.stored["traces"].get(run.trace_id)
        return trace.output if trace else None

    def shown_row(self, run):
        sequence = self.stored["experiments"][run.experiment_id].dataset_version_sequence
        shown = [
            row
            for row in self.stored["item_rows"]
            if row.item_id == run.dataset_item_id and _visible(row, sequence)
        ]
        return max(shown, key=lambda row: row.row_id) if shown else None

    def page(self, run_matches, sort_value=None, item_matches=None, descending=True):
        """(item ids in order, total, matching runs of every matched item)."""
        matching = [run for run in self.runs if run_matches(self, run)]
        grouped = defaultdict(list)
        for run in matching:
            row = self.shown_row(run)
            if row is not None:
                grouped[run.dataset_item_id].append((run, row))
        kept = {}
        for item_id, pairs in grouped.items():
            row = max((row for _, row in pairs), key=lambda row: row.row_id)
            if item_matches is None or item_matches(self, row, [run for run, _ in pairs]):
                values = [sort_value(self, run) for run, _ in pairs] if sort_value else []
                present = [value for value in values if value is not None]
                kept[item_id] = fmean(present) if present else None
        if sort_value is None:
            order = sorted(kept, reverse=True)
        else:
            with_value = [item_id for item_id in kept if kept[item_id] is not None]
            with_value.sort(reverse=True)  # the tiebreak: item id, descending
            with_value.sort(key=lambda item_id: kept[item_id], reverse=descending)
            order = with_value + sorted(
                (item_id for item_id in kept if kept[item_id] is None), reverse=True
            )
        runs_by_item = {
            item_id: sorted(run.id for run in matching if run.dataset_item_id == item_id)
            for item_id in kept
        }
        return order, len(kept), runs_by_item


def _score(name):
    return lambda expected, run: expected.score.get((run.trace_id, name))


# (the compare view's query, what a run must satisfy, the sort value, what an item must
# satisfy, whether the sort descends)
CASES = {
    "plain": (CompareViewQuery(), lambda e, r: True, None, None, True),
    "score filtered and sorted": (
        CompareViewQuery()
        .where("feedback_scores", ">=", "0.3", key="accuracy")
        .sorted_by("feedback_scores.accuracy", descending=True),
        lambda e, r: (_score("accuracy")(e, r) or -1) >= 0.3,
        _score("accuracy"),
        None,
        True,
    ),
    "sorted on a score some runs lack": (
        CompareViewQuery().sorted_by("feedback_scores.relevance"),
        lambda e, r: True,
        _score("relevance"),
        None,
        False,
    ),
    "score missing, duration sorted": (
        CompareViewQuery()
        .where("feedback_scores", "is_empty", key="relevance")
        .where("duration", "<", "4000")
        .sorted_by("duration", descending=True),
        lambda e, r: _score("relevance")(e, r) is None and (e.duration(r) or 1e9) < 4000,
        lambda e, r: e.duration(r),
        None,
        True,
    ),
    "cost and an item field": (
        CompareViewQuery()
        .where("total_estimated_cost", ">", "0.1")
        .where("data", "=", "billing", key="topic")
        .sorted_by("total_estimated_cost"),
        lambda e, r: (e.cost.get(r.trace_id) or 0) > 0.1,
        lambda e, r: e.cost.get(r.trace_id),
        lambda e, row, runs: row.data.get("topic") == "billing",
        False,
    ),
}


def _assert_compare_view_as_computed(database, world: _World, label: str) -> int:
    """Every case, page by page; returns how many items the plain case shows."""
    experiment_ids = world.experiments
    shown = 0
    with database.reading() as connection:
        dataset = datasets.get_or_create_by_name(connection, CALLER, DATASET)
        stored = _stored(connection, dataset.id)
        expected = _Expected(stored, dataset.id, experiment_ids)
        for name, (query, run_matches, sort_value, item_matches, descending) in CASES.items():
            query = CompareViewQuery(
                experiment_ids=tuple(experiment_ids), filters=query.filters, sort=query.sort
            )
            order, total, runs_by_item = expected.page(
                run_matches, sort_value, item_matches, descending
            )
            found_order, found_total, found_runs = [], None, {}
            for page in (1, 2, 3):
                found = compare.compare(connection, CALLER, dataset.id, query, page, 3)
                found_total = found.total
                for row in found.content:
                    found_order.append(row.item.id)
                    found_runs[row.item.id] = sorted(run.item.id for run in row.runs)
            assert found_total == total, (label, name)
            assert found_order == order[:9], (label, name)
            assert found_runs == {item_id: runs_by_item[item_id] for item_id in order[:9]}, (
                label,
                name,
            )
            stats = compare.stats(connection, CALLER, dataset.id, query)
            kept_runs = [run_id for item_id in order for run_id in runs_by_item[item_id]]
            assert stats.experiment_items_count == len(kept_runs), (label, name)
            if name == "plain":
                shown = total
    return shown


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compare_view_equals_a_computation_from_the_stored_data_after_random_writes(database, seed):
    rng = random.Random(seed)
    world = _VersionedWorld(rng, database)
    shown = []
    for round_number in range(60):
        with database.writing() as connection:
            for _ in range(rng.randint(1, 4)):
                world.step(connection)
        if round_number % 10 == 9:
            shown.append(_assert_compare_view_as_computed(database, world, f"round {round_number}"))
    shown.append(_assert_compare_view_as_computed(database, world, "end"))
    assert any(shown), "the writes made no item with a run its version shows"


def test_pages_sorted_on_a_score_with_many_ties_equal_the_computation(database):
    """Enough items that the first pages are found before every score row is read, and
    values that tie often (averages of equal values included)."""
    rng = random.Random(4)
    world = _World(rng, database)
    world.dataset_items = [ids.new_id() for _ in range(40)]
    with database.writing() as connection:
        items.upsert_items(
            connection,
            CALLER,
            [ItemDraft(id=item_id, data={"topic": "billing"}) for item_id in world.dataset_items],
            dataset_name=DATASET,
        )
        world.replace_experiment(connection)  # one experiment pinned to that version
        for experiment_id in world.experiments:
            for item_id in world.dataset_items:
                trace_id = ids.new_id()
                experiment_items.create_items(
                    connection,
                    CALLER,
                    [
                        {
                            "experiment_id": experiment_id,
                            "dataset_item_id": item_id,
                            "trace_id": trace_id,
                        }
                    ],
                )
                for name in ("accuracy", "relevance"):
                    if rng.random() < 0.8:
                        draft = ScoreDraft(trace_id, name, rng.choice([0.0, 0.1, 0.5, 1.0]), "sdk")
                        feedback_scores.put_scores(connection, CALLER, "trace", [draft])
    with database.reading() as connection:
        dataset = datasets.get_or_create_by_name(connection, CALLER, DATASET)
        expected = _Expected(_stored(connection, dataset.id), dataset.id, world.experiments)
        for name in ("score filtered and sorted", "sorted on a score some runs lack"):
            query, run_matches, sort_value, item_matches, descending = CASES[name]
            query = CompareViewQuery(
                experiment_ids=tuple(world.experiments), filters=query.filters, sort=query.sort
            )
            order, total, _ = expected.page(run_matches, sort_value, item_matches, descending)
            found_order = []
            for page in range(1, 12):
                found = compare.compare(connection, CALLER, dataset.id, query, page, 4)
                assert found.total == total, name
                found_order += [row.item.id for row in found.content]
            assert found_order == order, name
