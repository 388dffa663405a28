"""Whether a generated sample has the seeds' shape."""

from collections.abc import Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator

from seedbed.generation.schema import JsonSchema


class SampleValidator:
    """Checks samples against the inferred item schema, plus one rule a schema cannot
    say without also constraining the provider: a text field that is filled in every
    seed must not come back empty."""

    def __init__(self, item_schema: JsonSchema, seeds: Sequence[Mapping[str, Any]]) -> None:
        self._validator = Draft202012Validator(item_schema)
        self._key_order = list(item_schema.get("properties", {}))
        self._known_keys = set(self._key_order)
        self._always_filled = {
            key
            for key in self._known_keys
            if seeds and all(isinstance(seed.get(key), str) and seed[key].strip() for seed in seeds)
        }

    def problem(self, sample: Any) -> str | None:
        """None when the sample is valid, else a short reason a model can act on."""
        if not isinstance(sample, Mapping):
            return f"each sample must be a JSON object, got {_describe(sample)}"
        errors = sorted(self._validator.iter_errors(sample), key=lambda error: list(error.path))
        if errors:
            error = errors[0]
            where = "/".join(str(part) for part in error.path) or "the sample"
            return f"{where}: {error.message}"
        for key in self._always_filled:
            if not sample[key].strip():
                return f"{key}: must not be empty"
        return None

    def normalized(self, sample: Mapping[str, Any]) -> dict[str, Any]:
        """The sample without keys the seeds do not have (models sometimes add an
        ``id`` or an explanation), its keys in the seeds' order (a reply may write them
        in another); the shape check then sees only the seeds' keys."""
        return {key: sample[key] for key in self._key_order if key in sample}


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:60] + '…'}"
