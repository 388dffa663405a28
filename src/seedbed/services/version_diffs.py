"""Two versions of a dataset side by side: which items were added, removed or changed
(and in which fields), counted and paged on the database, whatever the dataset's size."""

from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from seedbed.domain.errors import InvalidInput
from seedbed.domain.items import Item
from seedbed.domain.versions import DatasetVersion
from seedbed.services.context import Caller
from seedbed.services.datasets import require_dataset
from seedbed.services.versions import resolve_version
from seedbed.storage.repositories.version_diffs import KINDS, VersionDiffRepository

# What a person can see change on an item, besides the keys of its data.
_ITEM_FIELDS = ("tags", "description", "source", "evaluators", "execution_policy")


@dataclass
class ItemDifference:
    kind: str  # added, removed or changed
    item_id: str
    before: Item | None
    after: Item | None
    changed_fields: list[str] = field(default_factory=list)  # "data.question", "tags", …


@dataclass
class VersionComparison:
    before: DatasetVersion
    after: DatasetVersion
    counts: dict[str, int]  # per kind, for the whole comparison
    content: list[ItemDifference]  # one page, of the kinds asked for
    page: int
    size: int
    total: int  # of the kinds asked for


def changed_fields(before: Item, after: Item) -> list[str]:
    """The fields whose values differ, data keys as ``data.<key>``."""
    keys = list(dict.fromkeys([*before.data, *after.data]))
    found = [f"data.{key}" for key in keys if before.data.get(key) != after.data.get(key)]
    found += [name for name in _ITEM_FIELDS if getattr(before, name) != getattr(after, name)]
    return found


def compare_versions(
    connection: Connection,
    caller: Caller,
    dataset_id: str,
    before_ref: str,
    after_ref: str,
    kinds: tuple[str, ...] = KINDS,
    page: int = 1,
    size: int = 50,
) -> VersionComparison:
    """``after_ref`` against ``before_ref`` (each a name such as ``v3``, a hash or a tag)."""
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise InvalidInput(f"kinds of difference are {', '.join(KINDS)}")
    dataset = require_dataset(connection, caller, dataset_id)
    before = resolve_version(connection, dataset, before_ref)
    after = resolve_version(connection, dataset, after_ref)
    repository = VersionDiffRepository(connection)
    counts = repository.counts(dataset.id, before.sequence, after.sequence)
    differences = [
        ItemDifference(
            kind,
            item_id,
            old,
            new,
            changed_fields(old, new) if old is not None and new is not None else [],
        )
        for kind, item_id, old, new in repository.page(
            dataset.id, before.sequence, after.sequence, kinds, page, size
        )
    ]
    total = sum(counts[kind] for kind in kinds)
    return VersionComparison(before, after, counts, differences, page, size, total)
