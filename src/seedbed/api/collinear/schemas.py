"""Collinear's request and response bodies (``collinear-openapi.json``)."""

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from seedbed.api.collinear import synth_data
from seedbed.domain.items import storage_problem
from seedbed.domain.limits import MAX_PROMPT_CHARS, within_example_size


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
