"""``POST /api/v1/synth_data/generate`` (``collinear-openapi.json``): ``multiplier`` new
rows per example, each returned as JSON text next to the example it came from.

Collinear's ``prompt`` is the task description: it becomes the engine's
``custom_prompt``, which replaces seedbed's own opening ("Here are N examples…"); the
example is shown after it (or where the prompt says ``{examples}``; ``{count}`` becomes
the number of rows asked for) and the output contract is still appended. A blank prompt
leaves seedbed's default task. Who may call is ``auth.py``; how the samples are made
(one engine run per example, unique across the request) is ``synth_data.py``.

``POST /api/v1/synth_data/generate/{model_id}/{n}`` (a file upload) is answered 501: its
response is undocumented (``{}`` in the spec) and its input may be any text, log or
transcript, which is not a seed of a JSON shape, so serving it would mean inventing both.
"""

import json
from typing import Any

from fastapi import APIRouter, Depends
from starlette.exceptions import HTTPException

from seedbed.api.collinear import synth_data
from seedbed.api.collinear.auth import PREFIX, collinear_caller
from seedbed.api.collinear.schemas import SynthDataGenerateRequest, SynthDataGenerateResponse
from seedbed.api.dependencies import DatabaseDep, ProvidersDep, SettingsDep
from seedbed.api.fastapi_shape import FastAPIShapedRoute, invalid_field
from seedbed.generation.factory import spec_from_settings

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
    spec = spec_from_settings(
        settings,
        body.multiplier,
        model=model,
        custom_prompt=body.prompt.strip() or None,
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
