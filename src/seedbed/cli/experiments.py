"""``seedbed experiments``: list experiments, show one, compare several."""

import json
from typing import TYPE_CHECKING, Annotated

import typer

from seedbed.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    Output,
    WorkspaceOption,
    command_group,
    console,
    fail,
    open_database,
    print_records,
    print_table,
    require_dataset_named,
)

if TYPE_CHECKING:
    from seedbed.services.context import Caller
    from seedbed.services.experiments import ExperimentView

app = command_group("List, show and compare experiments.")

ExperimentArgument = Annotated[
    str,
    typer.Argument(
        help="Experiment id, or name (the newest of that name).",
        metavar="EXPERIMENT",
        show_default=False,
    ),
]


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _scores(view: "ExperimentView") -> str:
    return ", ".join(
        f"{name}={value:.3f}" for name, value in sorted(view.aggregates.feedback_scores.items())
    )


def _resolve(connection, caller: "Caller", reference: str) -> "ExperimentView":
    from seedbed.domain.errors import NotFound, SeedbedError
    from seedbed.services import experiments

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
        raise NotFound(
            f"experiment {reference!r} not found in workspace {caller.workspace!r} "
            "(by id or by name)"
        )
    return named[0]


@app.command("list")
def list_experiments(
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Only experiments on this dataset.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Only experiments whose name contains this.")
    ] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """List experiments, newest first, with their scores and timings."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.domain.queries import ExperimentQuery
    from seedbed.services import experiments
    from seedbed.services.context import Caller

    database = open_database(database_url)
    caller = Caller(workspace)
    rows: list[list[str]] = []
    try:
        with database.reading() as connection:
            dataset_id = require_dataset_named(connection, caller, dataset).id if dataset else None
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
    print_records(
        Output(as_json=as_json),
        ["name", "dataset", "traces", "feedback scores", "p50 ms", "status", "created", "id"],
        rows,
    )


@app.command("show")
def show(
    experiment: ExperimentArgument,
    items: Annotated[
        int, typer.Option(help="How many items to show with their outputs and scores.")
    ] = 10,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """One experiment: its aggregates and first items.

    The aggregates, then the first items with their output, scores and duration."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.domain.experiments import average
    from seedbed.domain.queries import CompareViewQuery
    from seedbed.services import compare as compare_service
    from seedbed.services.context import Caller

    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        with database.reading() as connection:
            view = _resolve(connection, caller, experiment)
            page = compare_service.compare(
                connection,
                caller,
                view.experiment.dataset_id,
                CompareViewQuery(experiment_ids=(view.experiment.id,)),
                1,
                max(items, 1),
            )
    except SeedbedError as error:
        fail(error)
    found = view.experiment
    version = view.version.name if view.version else "-"
    shown = page.content[: max(items, 0)]
    if as_json:
        Output(as_json=True).result(
            {
                "id": found.id,
                "name": found.name,
                "dataset": found.dataset_name,
                "version": version,
                "status": found.status,
                "metrics": {row[0]: row[1] for row in _metric_rows([view])},
                "items": [
                    {
                        "data": row.item.data,
                        "output": run.output,
                        "scores": {
                            name: average(values)
                            for name, values in sorted(run.feedback_scores.items())
                        },
                        "ms": run.duration,
                    }
                    for row in shown
                    for run in row.runs
                ],
            }
        )
        return
    console.print(f"[bold]{_escaped(found.name)}[/bold]  ({found.id})")
    console.print(
        f"dataset {found.dataset_name} at {version}, {found.status}, created {found.created_at:%Y-%m-%d %H:%M}"
    )
    _print_metrics([view])
    if items <= 0:
        return
    runs = []
    for row in shown:
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
        typer.Argument(help="Two or more experiment ids or names.", metavar="EXPERIMENT"),
    ],
    as_json: JsonOption = False,
    workspace: WorkspaceOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Compare experiments side by side.

    Each score, the duration percentiles, cost and pass rate, one column an experiment."""
    from seedbed.domain.errors import SeedbedError
    from seedbed.services.context import Caller

    database = open_database(database_url)
    caller = Caller(workspace)
    try:
        with database.reading() as connection:
            views = [_resolve(connection, caller, reference) for reference in experiment_refs]
    except SeedbedError as error:
        fail(error)
    if as_json:
        names = [view.experiment.name for view in views]
        Output(as_json=True).result(
            {row[0]: dict(zip(names, row[1:], strict=True)) for row in _metric_rows(views)}
        )
        return
    _print_metrics(views)


def _metric_rows(views: list["ExperimentView"]) -> list[list[str]]:
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


def _print_metrics(views: list["ExperimentView"]) -> None:
    print_table(["metric", *(view.experiment.name for view in views)], _metric_rows(views))


def _short(value, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _escaped(text: str) -> str:
    from rich.markup import escape

    return escape(text)
