"""Opik's ``POST /datasets/{id}/expansions``: synthetic samples from a dataset's items,
returned and not saved (as in Opik), but really ``sample_count`` new, valid, unique
ones."""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, StringConstraints

from seedbed.api.dependencies import CallerDep, DatabaseDep, ProvidersDep, SettingsDep
from seedbed.api.opik.presenters import timestamp
from seedbed.api.opik.schemas import Body
from seedbed.domain import ids
from seedbed.domain.limits import LARGEST_MAX_TOKENS, MAX_INSTRUCTIONS_CHARS, MAX_PROMPT_CHARS
from seedbed.generation.factory import spec_from_settings
from seedbed.generation.result import GeneratedSample
from seedbed.generation.schema import GENERATED_MARKER, GENERATION_MODEL_MARKER
from seedbed.services import expansions
from seedbed.services.context import Caller, utcnow

router = APIRouter(tags=["Datasets"])


class DatasetExpansion(Body):
    model: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    sample_count: int = Field(default=10, ge=1, le=200)
    preserve_fields: list[str] | None = None
    variation_instructions: str | None = Field(default=None, max_length=MAX_INSTRUCTIONS_CHARS)
    custom_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    max_completion_tokens: int | None = Field(default=None, ge=100, le=LARGEST_MAX_TOKENS)


@router.post("/datasets/{dataset_id}/expansions")
async def expand_dataset(
    dataset_id: str,
    body: DatasetExpansion,
    caller: CallerDep,
    settings: SettingsDep,
    database: DatabaseDep,
    providers: ProvidersDep,
) -> dict:
    spec = spec_from_settings(
        settings,
        body.sample_count,
        model=body.model,
        instructions=body.variation_instructions or None,
        preserve_fields=tuple(body.preserve_fields or ()),
        custom_prompt=body.custom_prompt or None,
        max_tokens=body.max_completion_tokens,
    )
    result = await expansions.expand_dataset(database, providers, caller, dataset_id, spec)
    generated_at = utcnow()
    return {
        "generated_samples": [
            _generated_item(sample, dataset_id, caller, generated_at) for sample in result.samples
        ],
        "model": body.model,
        "total_generated": len(result.samples),
        "generation_time": timestamp(generated_at),
    }


def _generated_item(sample: GeneratedSample, dataset_id: str, caller: Caller, at: Any) -> dict:
    return {
        "id": ids.new_id(),
        "dataset_id": dataset_id,
        "data": opik_marked(sample),
        "source": "manual",
        "tags": [],
        "created_at": timestamp(at),
        "created_by": caller.user,
        "last_updated_at": timestamp(at),
        "last_updated_by": caller.user,
    }


def opik_marked(sample: GeneratedSample) -> dict[str, Any]:
    """The sample's data with Opik's markers of a generated sample: Opik's expansions
    response carries them in ``data``, and clients that save the samples keep them."""
    return {
        **sample.data,
        GENERATED_MARKER: True,
        GENERATION_MODEL_MARKER: sample.provenance.model,
    }
