"""Dataset versions: names, content digests and references.

A version's snapshot is the set of items visible in it. Its digest is an
order-independent sum of item hashes, so it can be kept up to date as items come and go
(add an item's hash, subtract it when the item is replaced) without re-reading the
dataset, and two versions with the same content have the same digest.
"""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from seedbed.domain.limits import LARGEST_32_BIT

_DIGEST_MODULUS = 1 << 128
_VERSION_NAME = re.compile(r"^v(\d+)$")
LATEST = "latest"


def item_digest(item_id: str, content_hash: str) -> int:
    raw = hashlib.sha256(f"{item_id}:{content_hash}".encode()).digest()
    return int.from_bytes(raw[:16], "big")


def combine_digest(digest: int, added: int = 0, removed: int = 0) -> int:
    return (digest + added - removed) % _DIGEST_MODULUS


def version_hash(dataset_id: str, sequence: int, digest: int) -> str:
    """Names one version: its dataset, its place in the history, its content."""
    return hashlib.sha256(f"{dataset_id}:{sequence}:{digest:032x}".encode()).hexdigest()[:16]


def version_name(sequence: int) -> str:
    return f"v{sequence}"


def sequence_from_name(name: str) -> int | None:
    """The number in ``v3``; None for anything else, a number past what a version can be
    numbered with included (it names no version; the database could not even hold it)."""
    match = _VERSION_NAME.match(name)
    if match is None or len(match.group(1)) > len(str(LARGEST_32_BIT)):
        return None
    sequence = int(match.group(1))
    return sequence if sequence <= LARGEST_32_BIT else None


@dataclass
class ChangeCounts:
    added: int = 0
    modified: int = 0
    deleted: int = 0

    def __iadd__(self, other: "ChangeCounts") -> "ChangeCounts":
        self.added += other.added
        self.modified += other.modified
        self.deleted += other.deleted
        return self

    @property
    def empty(self) -> bool:
        return not (self.added or self.modified or self.deleted)


@dataclass
class DatasetVersion:
    id: str
    dataset_id: str
    sequence: int
    version_hash: str
    digest: int
    items_total: int
    changes: ChangeCounts
    change_description: str | None
    metadata: dict[str, str]
    batch_group_id: str | None
    created_at: dt.datetime
    created_by: str
    last_updated_at: dt.datetime
    last_updated_by: str
    tags: list[str] = field(default_factory=list)
    is_latest: bool = False
    evaluators: list[dict] | None = None
    execution_policy: dict | None = None

    @property
    def name(self) -> str:
        return version_name(self.sequence)


def compare_snapshots(before: dict[str, str], after: dict[str, str]) -> tuple[ChangeCounts, int]:
    """What changed between two snapshots (item id -> content hash); also how many stayed
    the same."""
    counts = ChangeCounts()
    unchanged = 0
    for item_id, content in after.items():
        previous = before.get(item_id)
        if previous is None:
            counts.added += 1
        elif previous == content:
            unchanged += 1
        else:
            counts.modified += 1
    counts.deleted = sum(1 for item_id in before if item_id not in after)
    return counts, unchanged
