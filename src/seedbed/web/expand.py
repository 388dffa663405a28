"""The expand page: how many samples, which fields to keep consistent, instructions,
data types, model and budget; the pre-flight estimate; "Generate" starts a generation
job (with no save target: the samples are reviewed on the job's page, then added)."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from seedbed.api.dependencies import DispatchAfterCommit
from seedbed.domain.errors import InvalidInput, SeedbedError
from seedbed.generation.factory import spec_from_settings
from seedbed.generation.spec import Budget, GenerationSpec
from seedbed.generation.strategies import DATA_TYPE_GUIDANCE
from seedbed.services import expansion_preflight, jobs
from seedbed.services.datasets import require_dataset
from seedbed.web import figures
from seedbed.web.pages import PageRoute, Visitor, VisitorDep
from seedbed.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAX_COUNT = 100_000
DEFAULT_COUNT = 10


@dataclass
class ExpandForm:
    """The form as typed (text), so a page with a mistake shows what was entered."""

    count: str = str(DEFAULT_COUNT)
    preserve: list[str] | None = None  # None: not chosen yet, pre-select the common fields
    instructions: str = ""
    data_types: list[str] = field(default_factory=list)
    model: str = ""
    max_cost: str = ""
    max_tokens: str = ""

    def spec(self, request: Request) -> GenerationSpec:
        settings = request.app.state.settings
        return spec_from_settings(
            settings,
            _count(self.count),
            model=self.model.strip(),
            instructions=self.instructions.strip() or None,
            preserve_fields=tuple(self.preserve or ()),
            data_types=tuple(self.data_types),
            budget=Budget(
                max_cost=_positive(self.max_cost, float, "Max cost"),
                max_tokens=_positive(self.max_tokens, int, "Max tokens"),
            ),
        )


def _count(text: str) -> int:
    try:
        count = int(text.strip().replace(",", "").replace("_", ""))
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"Count must be a whole number from 1 to {MAX_COUNT:,}")
    return count


def _positive(text: str, kind: type, label: str) -> float | int | None:
    if not text.strip():
        return None
    try:
        value = kind(text.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise InvalidInput(f"{label} must be a positive number, or left empty for no limit")
    return value


def _page(
    request: Request,
    visitor: Visitor,
    dataset_id: str,
    form: ExpandForm,
    status_code: int = 200,
    message: str = "",
) -> Response:
    registry = request.app.state.providers
    form.model = form.model or registry.default_model()
    estimate = None
    with visitor.reading() as connection:
        dataset = require_dataset(connection, visitor.caller, dataset_id)
        fields = expansion_preflight.field_presence(connection, visitor.caller, dataset.id)
        if form.preserve is None:
            form.preserve = [found.name for found in fields if found.common]
        if not message:
            try:
                estimate = expansion_preflight.estimate_expansion(
                    connection, visitor.caller, registry, dataset.id, form.spec(request)
                )
            except SeedbedError as error:
                message, status_code = error.message, error.status_code
    return render(
        request,
        "expand.html",
        visitor,
        status_code,
        dataset=dataset,
        fields=fields,
        form=form,
        estimate=estimate,
        data_types=list(DATA_TYPE_GUIDANCE),
        models=expansion_preflight.model_choices(registry),
        figures=figures,
        message=message,
    )


@router.get("/datasets/{dataset_id}/expand")
def expand_page(request: Request, dataset_id: str, visitor: VisitorDep) -> Response:
    return _page(request, visitor, dataset_id, ExpandForm())


@router.post("/datasets/{dataset_id}/expand")
def expand(
    request: Request,
    dataset_id: str,
    visitor: VisitorDep,
    jobs_after_commit: DispatchAfterCommit,
    count: Annotated[str, Form()] = "",
    preserve: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    instructions: Annotated[str, Form()] = "",
    data_types: Annotated[list[str], Form()] = [],  # noqa: B006
    model: Annotated[str, Form()] = "",
    max_cost: Annotated[str, Form()] = "",
    max_tokens: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "estimate",
) -> Response:
    """ "Estimate" shows the page again with the estimate of what was entered;
    "Generate" starts the job and opens its page."""
    form = ExpandForm(count, preserve, instructions, data_types, model, max_cost, max_tokens)
    if action != "generate":
        return _page(request, visitor, dataset_id, form)
    try:
        spec = form.spec(request)
        with visitor.writing() as connection:
            job = jobs.create_job(
                connection,
                visitor.caller,
                request.app.state.providers,
                spec,
                source_dataset_id=dataset_id,
            )
    except SeedbedError as error:
        return _page(request, visitor, dataset_id, form, error.status_code, error.message)
    jobs_after_commit.dispatch(job.id)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
