"""``seedbed experiments``: list experiments, show one, compare several."""

import json
from typing import Annotated

import typer

from seedbed.cli.common import (
    DatabaseUrlOption,
    WorkspaceOption,
    console,
    fail,
    open_database,
    print_table,
)
from seedbed.domain.errors import NotFound, SeedbedError
from seedbed.domain.experiments import average
from seedbed.domain.queries import ExperimentQuery
from seedbed.services import compare as compare_service
from seedbed.services import datasets, experiments
from seedbed.services.context import Caller
from seedbed.services.experiments import ExperimentView

app = typer.Typer(help="List, show and compare experiments.", no_args_is_help=True)

ExperimentArgument = Annotated[
    str, typer.Argument(help="Experiment id, or name (the newest of that name).")
]


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _scores(view: ExperimentView) -> str:
    return ", ".join(
        f"{name}={value:.3f}" for name, value in sorted(view.aggregates.feedback_scores.items())
    )


def _resolve(connection, caller: Caller, reference: str) -> ExperimentView:
    try:
        return experiments.get_experiment(connection, caller, reference)
    except SeedbedError:
        pass  # not an id of this workspace: try it as a name
    named = [
        view
        for view in experiments.stream_experiments(connection, caller, reference)
        if view.experiment.name == reference
    ]
    if not named:
        raise NotFound(f"No experiment with id or name '{reference}'")
    return named[0]


@app.command("list")
def list_experiments(
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Only experiments on this dataset.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Only experiments whose name contains this.")
    ] = None,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """List experiments, newest first, with their scores and timings."""
    database = open_database(database_url)
    caller = Caller(workspace)
    rows: list[list[str]] = []
    try:
        with database.reading() as connection:
            dataset_id = (
                datasets.require_dataset_by_name(connection, caller, dataset).id
                if dataset
                else None
            )
            page_number = 1
            while True:
                page = experiments.find_experiments(
                    connection,
                    caller,
                    page_number,
                    100,
                    ExperimentQuery(dataset_id=dataset_id, name=name),
                )
                for view in page.content:
                    found, totals = view.experiment, view.aggregates
                    rows.append(
                        [
                            found.name,
                            found.dataset_name,
                            str(totals.trace_count),
                            _scores(view) or "-",
                            _number(totals.duration.p50 if totals.duration else None, 1),
                            found.status,
                            found.created_at.strftime("%Y-%m-%d %H:%M"),
                            found.id,
                        ]
                    )
                if page_number * 100 >= page.total:
                    break
                page_number += 1
    except SeedbedError as error:
        fail(error)
    print_table(
        ["name", "dataset", "traces", "feedback scores", "p50 ms", "status", "created", "id"], rows
    )


@app.command("show")
def show(
    experiment: ExperimentArgument,
    items: Annotated[
        int, typer.Option(help="How many items to show with their outputs and scores.")
    ] = 10,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """One experiment: its aggregates, then its first items with output and scores."""
    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        with database.reading() as connection:
            view = _resolve(connection, caller, experiment)
            page = compare_service.compare(
                connection,
                caller,
                view.experiment.dataset_id,
                json.dumps([view.experiment.id]),
                1,
                max(items, 1),
            )
    except SeedbedError as error:
        fail(error)
    found = view.experiment
    version = view.version.name if view.version else "-"
    console.print(f"[bold]{found.name}[/bold]  ({found.id})")
    console.print(
        f"dataset {found.dataset_name} at {version}, {found.status}, created {found.created_at:%Y-%m-%d %H:%M}"
    )
    _print_metrics([view])
    if items <= 0:
        return
    runs = []
    for row in page.content[:items]:
        for run in row.runs:
            scores = ", ".join(
                f"{name}={average(values):.3f}"
                for name, values in sorted(run.feedback_scores.items())
            )
            runs.append(
                [_short(row.item.data), _short(run.output), scores or "-", _number(run.duration, 0)]
            )
    console.print()
    print_table(["item", "output", "scores", "ms"], runs)


@app.command("compare")
def compare(
    experiment_refs: Annotated[
        list[str],
        typer.Argument(help="Two or more experiment ids or names.", metavar="EXPERIMENT..."),
    ],
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Experiments side by side: each score, duration percentiles, cost, pass rate."""
    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        with database.reading() as connection:
            views = [_resolve(connection, caller, reference) for reference in experiment_refs]
    except SeedbedError as error:
        fail(error)
    _print_metrics(views)


def _metric_rows(views: list[ExperimentView]) -> list[list[str]]:
    names = sorted({name for view in views for name in view.aggregates.feedback_scores})
    rows = [["traces", *(str(view.aggregates.trace_count) for view in views)]]
    rows += [
        [name, *(_number(view.aggregates.feedback_scores.get(name)) for view in views)]
        for name in names
    ]
    for label in ("p50", "p90", "p99"):
        rows.append(
            [
                f"duration {label} ms",
                *(
                    _number(getattr(v.aggregates.duration, label), 1)
                    if v.aggregates.duration
                    else "-"
                    for v in views
                ),
            ]
        )
    rows.append(
        ["total cost", *(_number(view.aggregates.total_estimated_cost, 6) for view in views)]
    )
    if any(view.aggregates.suite for view in views):
        rows.append(
            [
                "pass rate",
                *(
                    _number(v.aggregates.suite.pass_rate) if v.aggregates.suite else "-"
                    for v in views
                ),
            ]
        )
    return rows


def _print_metrics(views: list[ExperimentView]) -> None:
    print_table(["metric", *(view.experiment.name for view in views)], _metric_rows(views))


def _short(value, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"
