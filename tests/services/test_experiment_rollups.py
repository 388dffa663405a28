"""Experiments' aggregates are kept as writes arrive; after any sequence of writes they
must equal what a computation from scratch over the traces, spans and scores gives.

Random sequences of the writes clients make, in random orders and units of work (late
traces, spans that move, re-scores, deletes of scores, items, traces and experiments),
on both engines; and concurrent writers on PostgreSQL, where a score and the item that
links its trace can be stored at the same moment."""

import datetime as dt
import random
import threading

import pytest

from seedbed.domain import ids
from seedbed.domain.experiments import SUITE_ASSERTION_CATEGORY, Aggregates
from seedbed.domain.feedback_scores import ScoreDraft
from seedbed.domain.traces import Write
from seedbed.services import datasets, experiment_items, experiments, feedback_scores, spans, traces
from seedbed.services.context import Caller
from seedbed.storage.repositories.experiment_aggregates import AggregateRepository
from seedbed.storage.repositories.experiment_rollups import ExperimentRollupRepository

CALLER = Caller()
START = dt.datetime(2026, 1, 1)


def _kept_and_scratch(database, experiment_ids) -> tuple[dict, dict]:
    with database.reading() as connection:
        kept = ExperimentRollupRepository(connection).for_experiments(experiment_ids)
        scratch = AggregateRepository(connection).from_scratch(CALLER.workspace, experiment_ids)
    return kept, scratch


def _assert_same(kept: Aggregates, scratch: Aggregates, label: str) -> None:
    approx = pytest.approx
    assert kept.trace_count == scratch.trace_count, label
    assert kept.dataset_item_count == scratch.dataset_item_count, label
    assert kept.feedback_scores == approx(scratch.feedback_scores, rel=1e-9), label
    assert kept.assertion_scores == approx(scratch.assertion_scores, rel=1e-9), label
    assert kept.usage == approx(scratch.usage, rel=1e-9), label
    if scratch.total_estimated_cost is None:
        assert kept.total_estimated_cost is None, label
    else:
        assert kept.total_estimated_cost == approx(scratch.total_estimated_cost, rel=1e-9), label
        assert kept.total_estimated_cost_avg == approx(
            scratch.total_estimated_cost_avg, rel=1e-9
        ), label
    if scratch.duration is None:
        assert kept.duration is None, label
    else:
        assert kept.duration is not None, label
        for name in ("p50", "p90", "p99"):
            assert getattr(kept.duration, name) == approx(
                getattr(scratch.duration, name), rel=1e-9
            ), (label, name)


class _World:
    """What a random client has made so far, and the writes it can make next."""

    def __init__(self, rng: random.Random, database) -> None:
        self.rng = rng
        self.database = database
        self.dataset_items = [ids.new_id() for _ in range(6)]
        self.traces = [ids.new_id() for _ in range(12)]
        self.spans: dict[str, str] = {}  # span id → trace id
        self.items: list[str] = []
        self.experiments: list[str] = []
        with database.writing() as connection:
            datasets.get_or_create_by_name(connection, CALLER, "rollups")
            for _ in range(3):
                self.experiments.append(self._new_experiment(connection))

    def _new_experiment(self, connection) -> str:
        experiment_id = ids.new_id()
        experiments.create_experiment(connection, CALLER, "rollups", experiment_id=experiment_id)
        return experiment_id

    def write_trace(self, connection) -> None:
        trace_id = self.rng.choice(self.traces)
        fields: dict = {"name": "task"}
        if self.rng.random() < 0.8:
            fields["start_time"] = START
        if self.rng.random() < 0.8:
            fields["end_time"] = START + dt.timedelta(milliseconds=self.rng.randint(1, 5000))
        traces.write_traces(connection, CALLER, [Write(trace_id, fields, project_name="p")])

    def write_span(self, connection) -> None:
        if self.spans and self.rng.random() < 0.4:
            span_id = self.rng.choice(list(self.spans))  # update one, maybe moving it
        else:
            span_id = ids.new_id()
        trace_id = self.rng.choice(self.traces)
        self.spans[span_id] = trace_id
        fields: dict = {"trace_id": trace_id, "name": "llm", "type": "llm"}
        if self.rng.random() < 0.7:
            fields["total_estimated_cost"] = self.rng.choice([0.0, 0.001, 0.25, 1.5])
        if self.rng.random() < 0.7:
            fields["usage"] = {
                key: self.rng.randint(0, 500)
                for key in self.rng.sample(["prompt_tokens", "completion_tokens", "total"], 2)
            }
        spans.write_spans(connection, CALLER, [Write(span_id, fields, project_name="p")])

    def score(self, connection) -> None:
        trace_id = self.rng.choice(self.traces)
        assertion = self.rng.random() < 0.15
        draft = ScoreDraft(
            entity_id=trace_id,
            name=self.rng.choice(["accuracy", "relevance"]),
            value=self.rng.choice([0.0, 0.1, 0.2, 0.5, 1.0, 0.3333]),
            source="sdk",
            author=self.rng.choice(["ann", "bob", None]),
            category_name=SUITE_ASSERTION_CATEGORY if assertion else None,
        )
        feedback_scores.put_scores(connection, CALLER, "trace", [draft])

    def unscore(self, connection) -> None:
        feedback_scores.delete_score(
            connection,
            CALLER,
            "trace",
            self.rng.choice(self.traces),
            self.rng.choice(["accuracy", "relevance"]),
            self.rng.choice(["ann", None]),
        )

    def link(self, connection) -> None:
        batch = []
        for _ in range(self.rng.randint(1, 4)):
            item_id = ids.new_id()
            self.items.append(item_id)
            batch.append(
                {
                    "id": item_id,
                    "experiment_id": self.rng.choice(self.experiments),
                    "dataset_item_id": self.rng.choice(self.dataset_items),
                    "trace_id": self.rng.choice(self.traces),
                }
            )
        if self.items and self.rng.random() < 0.2:
            batch.append({**batch[0], "id": self.rng.choice(self.items)})  # a re-sent item
        batch = list({item["id"]: item for item in batch}.values())
        experiment_items.create_items(connection, CALLER, batch)

    def unlink(self, connection) -> None:
        if self.items:
            gone = self.rng.sample(self.items, min(len(self.items), self.rng.randint(1, 3)))
            experiment_items.delete_items(connection, CALLER, gone)
            self.items = [item for item in self.items if item not in gone]

    def delete_trace(self, connection) -> None:
        trace_id = self.rng.choice(self.traces)
        traces.delete_traces(connection, CALLER, [trace_id])
        self.spans = {span: trace for span, trace in self.spans.items() if trace != trace_id}

    def replace_experiment(self, connection) -> None:
        gone = self.experiments.pop(self.rng.randrange(len(self.experiments)))
        experiments.delete_experiments(connection, CALLER, [gone])
        self.experiments.append(self._new_experiment(connection))

    def step(self, connection) -> None:
        writes = [
            (self.write_trace, 4),
            (self.write_span, 4),
            (self.score, 5),
            (self.unscore, 1),
            (self.link, 5),
            (self.unlink, 1),
            (self.delete_trace, 1),
            (self.replace_experiment, 0.3),
        ]
        choose = self.rng.choices([w for w, _ in writes], weights=[n for _, n in writes])[0]
        choose(connection)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_aggregates_equal_a_computation_from_scratch_after_random_writes(database, seed):
    rng = random.Random(seed)
    world = _World(rng, database)
    for round_number in range(60):
        with database.writing() as connection:
            for _ in range(rng.randint(1, 4)):  # several writes in one unit of work
                world.step(connection)
        if round_number % 10 == 9:
            kept, scratch = _kept_and_scratch(database, world.experiments)
            for experiment_id in world.experiments:
                _assert_same(kept[experiment_id], scratch[experiment_id], f"round {round_number}")
    kept, scratch = _kept_and_scratch(database, world.experiments)
    assert any(aggregates.trace_count for aggregates in scratch.values())
    assert any(aggregates.feedback_scores for aggregates in scratch.values())
    for experiment_id in world.experiments:
        _assert_same(kept[experiment_id], scratch[experiment_id], "end")


def test_a_write_that_fails_changes_no_aggregate(database):
    world = _World(random.Random(7), database)
    trace_id = world.traces[0]
    with database.writing() as connection:
        experiment_items.create_items(
            connection,
            CALLER,
            [
                {
                    "experiment_id": world.experiments[0],
                    "dataset_item_id": world.dataset_items[0],
                    "trace_id": trace_id,
                }
            ],
        )
    with pytest.raises(RuntimeError), database.writing() as connection:
        feedback_scores.put_scores(
            connection, CALLER, "trace", [ScoreDraft(trace_id, "accuracy", 1.0, "sdk")]
        )
        raise RuntimeError("the request fails after its score was written")
    with database.writing() as connection:
        feedback_scores.put_scores(
            connection, CALLER, "trace", [ScoreDraft(trace_id, "relevance", 0.5, "sdk")]
        )
    kept, scratch = _kept_and_scratch(database, world.experiments)
    assert kept[world.experiments[0]].feedback_scores == {"relevance": 0.5}
    _assert_same(kept[world.experiments[0]], scratch[world.experiments[0]], "after a rollback")


def test_scores_and_links_written_at_once_are_all_counted(database, engine_name):
    """Writers that race: scores of traces, and the items linking those traces, each in
    its own unit of work on its own thread."""
    world = _World(random.Random(11), database)
    experiment_id = world.experiments[0]
    trace_ids = [ids.new_id() for _ in range(40)]
    errors: list[BaseException] = []

    def run(write) -> None:
        try:
            for trace_id in trace_ids:
                with database.writing() as connection:
                    write(connection, trace_id)
        except BaseException as error:  # reported below
            errors.append(error)

    def link(connection, trace_id) -> None:
        item = {
            "experiment_id": experiment_id,
            "dataset_item_id": ids.new_id(),
            "trace_id": trace_id,
        }
        experiment_items.create_items(connection, CALLER, [item])

    def score(connection, trace_id) -> None:
        drafts = [ScoreDraft(trace_id, "accuracy", 1.0, "sdk")]
        feedback_scores.put_scores(connection, CALLER, "trace", drafts)

    def span(connection, trace_id) -> None:
        write = Write(ids.new_id(), {"trace_id": trace_id, "total_estimated_cost": 0.5})
        spans.write_spans(connection, CALLER, [write])

    threads = [threading.Thread(target=run, args=(write,)) for write in (link, score, span)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    kept, scratch = _kept_and_scratch(database, [experiment_id])
    assert scratch[experiment_id].trace_count == 40
    assert scratch[experiment_id].feedback_scores == {"accuracy": 1.0}
    assert scratch[experiment_id].total_estimated_cost == pytest.approx(20.0)
    _assert_same(kept[experiment_id], scratch[experiment_id], engine_name)


def test_one_unit_of_work_may_change_tens_of_thousands_of_traces(database):
    """However many traces a write changes, it holds a bounded number of locks
    (PostgreSQL's lock table is shared and small)."""
    world = _World(random.Random(3), database)
    trace_ids = [ids.new_id() for _ in range(20_000)]
    with database.writing() as connection:
        experiment_items.create_items(
            connection,
            CALLER,
            [
                {"experiment_id": world.experiments[0], "dataset_item_id": t, "trace_id": t}
                for t in trace_ids[:10]
            ],
        )
        drafts = [ScoreDraft(trace_id, "accuracy", 0.5, "sdk") for trace_id in trace_ids]
        feedback_scores.put_scores(connection, CALLER, "trace", drafts)
    kept, scratch = _kept_and_scratch(database, world.experiments[:1])
    assert kept[world.experiments[0]].feedback_scores == {"accuracy": 0.5}
    _assert_same(kept[world.experiments[0]], scratch[world.experiments[0]], "big unit of work")
