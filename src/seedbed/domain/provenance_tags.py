"""How a dataset item says where it came from, in its tags.

Samples that seedbed generates and saves keep the user's fields exactly; what produced
them (that they were generated, the ``provider/model``, the job) is written as tags,
which every surface already shows and filters on: the Opik API, the CLI's exports and
the web UI.
"""

from collections.abc import Iterable
from dataclasses import dataclass

GENERATED_TAG = "generated"
MODEL_TAG_PREFIX = "model:"
JOB_TAG_PREFIX = "job:"


def provenance_tags(model: str | None, job_id: str | None = None) -> list[str]:
    """The tags of a generated item: ``generated``, ``model:<provider/model>`` and, for
    a job's samples, ``job:<id>``."""
    tags = [GENERATED_TAG]
    if model:
        tags.append(MODEL_TAG_PREFIX + model)
    if job_id:
        tags.append(JOB_TAG_PREFIX + job_id)
    return tags


@dataclass(frozen=True, slots=True)
class ItemProvenance:
    generated: bool
    model: str | None = None
    job_id: str | None = None


def provenance_from_tags(tags: Iterable[str]) -> ItemProvenance:
    tags = list(tags)
    return ItemProvenance(
        generated=GENERATED_TAG in tags,
        model=_value(tags, MODEL_TAG_PREFIX),
        job_id=_value(tags, JOB_TAG_PREFIX),
    )


def _value(tags: list[str], prefix: str) -> str | None:
    return next((tag[len(prefix) :] for tag in tags if tag.startswith(prefix)), None)
