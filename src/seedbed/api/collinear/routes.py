"""``POST /api/v1/synth_data/generate`` (``collinear-openapi.json``): ``multiplier`` new
rows per example, each returned as JSON text next to the example it came from.

Collinear's ``prompt`` is the task description: it becomes the engine's
``custom_prompt``, which replaces seedbed's own opening ("Here are N examples…"); the
example is shown after it (or where the prompt says ``{examples}``; ``{count}`` becomes
the number of rows asked for) and the output contract is still appended. A blank prompt
leaves seedbed's default task. Collinear's clients authenticate with
``Authorization: Bearer <key>`` or ``API-Key: <key>``; either takes a seedbed key.

``POST /api/v1/synth_data/generate/{model_id}/{n}`` (a file upload) is answered 501: its
response is undocumented (``{}`` in the spec) and its input may be any text, log or
transcript, which is not a seed of a JSON shape, so serving it would mean inventing both.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from starlette.exceptions import HTTPException

from seedbed.api.auth import caller_for_credential
from seedbed.api.dependencies import DatabaseDep, ProvidersDep, SettingsDep
from seedbed.api.fastapi_shape import FastAPIShapedRoute, invalid_field
from seedbed.domain.items import storage_problem
from seedbed.domain.keys import secret_from_header
from seedbed.domain.limits import MAX_PROMPT_CHARS, within_example_size
from seedbed.generation.spec import GenerationSpec
from seedbed.services import synth_data
from seedbed.services.context import Caller

PREFIX = "/api/v1/synth_data"


def _sendable(value: Any) -> Any:
    """Values that survive the trip to a provider and back out as JSON."""
    if (problem := storage_problem(value)) is not None:
        raise ValueError(problem)
    return value


Example = Annotated[
    dict[str, Any],
    Field(min_length=1),
    AfterValidator(_sendable),
    AfterValidator(within_example_size),
]


class SynthDataGenerateRequest(BaseModel):
    # Unknown fields are ignored, as Collinear's server does; "model_id" is Collinear's
    # field name, not one of pydantic's own.
    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    model_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    multiplier: int = Field(ge=1, le=synth_data.MAX_MULTIPLIER)
    examples: list[Example] = Field(min_length=1, max_length=synth_data.MAX_EXAMPLES)
    prompt: Annotated[str, Field(max_length=MAX_PROMPT_CHARS), AfterValidator(_sendable)]

    @model_validator(mode="after")
    def _within_one_request(self) -> "SynthDataGenerateRequest":
        if self.multiplier * len(self.examples) > synth_data.MAX_GENERATED:
            raise ValueError(
                f"multiplier × number of examples must be at most {synth_data.MAX_GENERATED},"
                f" not {self.multiplier} × {len(self.examples)}"
            )
        return self


class SynthDataGenerateResponse(BaseModel):
    original: dict[str, Any]
    generated: str  # the new row, as JSON text


def collinear_caller(request: Request, settings: SettingsDep, database: DatabaseDep) -> Caller:
    """Collinear's clients send the key as ``Authorization: Bearer`` or ``API-Key``."""
    credential = secret_from_header(request.headers.get("authorization")) or secret_from_header(
        request.headers.get("api-key")
    )
    return caller_for_credential(
        settings,
        database,
        credential,
        missing="An API key is required: send 'Authorization: Bearer <key>' or 'API-Key: <key>'",
    )


router = APIRouter(prefix=PREFIX, route_class=FastAPIShapedRoute, tags=["Collinear"])


@router.post(
    "/generate",
    response_model=list[SynthDataGenerateResponse],
    summary="Generate Data From Body",
    dependencies=[Depends(collinear_caller)],
)
async def generate_data_from_body(
    body: SynthDataGenerateRequest,
    settings: SettingsDep,
    database: DatabaseDep,
    providers: ProvidersDep,
) -> list[dict[str, Any]]:
    try:
        model = synth_data.resolve_model_id(
            body.model_id, providers, settings.collinear_models, settings.default_model
        )
    except synth_data.UnknownModelId as error:
        raise invalid_field(("body", "model_id"), error.message, body.model_id) from None
    spec = GenerationSpec(
        count=body.multiplier,
        model=model,
        custom_prompt=body.prompt.strip() or None,
        max_retries=settings.generation_max_retries,
        breaker_cooldown_seconds=settings.generation_breaker_cooldown_seconds,
    )
    samples = await synth_data.generate_like_examples(
        database, providers, body.examples, body.multiplier, spec
    )
    # Pretty-printed, as Collinear's own answers are.
    return [
        {
            "original": sample.original,
            "generated": json.dumps(sample.generated, ensure_ascii=False, indent=2),
        }
        for sample in samples
    ]


@router.post("/generate/{model_id}/{n}", include_in_schema=False)
async def generate_data_from_file() -> None:
    raise HTTPException(
        501,
        "Generating from an uploaded file is not supported; send the examples as JSON to"
        f" POST {PREFIX}/generate",
    )
