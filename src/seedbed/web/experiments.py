"""The experiments pages: a dataset's experiments with what their traces add up to, and
the compare page (a link anyone can share: ``/experiments/compare?ids=A,B[,C]``)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from seedbed.domain.experiment_comparison import ITEM_CHANGES, TEST_NAME
from seedbed.domain.queries import DatasetQuery, ExperimentQuery
from seedbed.services import datasets, experiment_comparison, experiments
from seedbed.web import figures
from seedbed.web.charts import distribution_chart
from seedbed.web.pages import PageRoute, VisitorDep
from seedbed.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
EXPERIMENTS_PAGE_SIZE = 25
COMPARE_PAGE_SIZE = 25
DATASET_CHOICES = 200


@router.get("/experiments")
def experiments_page(
    request: Request,
    visitor: VisitorDep,
    dataset_id: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    with visitor.reading() as connection:
        choices = [
            view.dataset
            for view in datasets.find_datasets(
                connection,
                visitor.caller,
                1,
                DATASET_CHOICES,
                DatasetQuery(with_experiments_only=True),
            ).content
        ]
        chosen = dataset_id or (choices[0].id if choices else "")
        found = (
            experiments.find_experiments(
                connection,
                visitor.caller,
                page,
                EXPERIMENTS_PAGE_SIZE,
                ExperimentQuery(dataset_id=chosen),
            )
            if chosen
            else None
        )
    score_names = sorted(
        {
            name
            for view in (found.content if found else [])
            for name in view.aggregates.feedback_scores
        }
    )
    total = found.total if found else 0
    return render(
        request,
        "experiments.html",
        visitor,
        choices=choices,
        chosen=chosen,
        found=found or {"total": 0},
        views=found.content if found else [],
        score_names=score_names,
        page=page,
        pages=max(1, -(-total // EXPERIMENTS_PAGE_SIZE)),
        figures=figures,
    )


@router.get("/experiments/compare")
def compare_page(
    request: Request,
    visitor: VisitorDep,
    ids: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
    change: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """``ids`` as the shared link has it (``A,B``) or as the experiments page's form
    sends the checked boxes (``ids=A&ids=B``)."""
    wanted = experiment_comparison.parse_experiment_ids(",".join(ids))
    with visitor.reading() as connection:
        comparison = experiment_comparison.compare_experiments(
            connection, visitor.caller, wanted, change or None, page, COMPARE_PAGE_SIZE
        )
    return render(
        request,
        "compare.html",
        visitor,
        comparison=comparison,
        ids=",".join(wanted),
        changes=ITEM_CHANGES,
        test_name=TEST_NAME,
        charts=[
            distribution_chart(found, comparison.experiments) for found in comparison.distributions
        ],
        found={"total": comparison.total},
        page=page,
        pages=max(1, -(-comparison.total // COMPARE_PAGE_SIZE)),
        figures=figures,
    )
