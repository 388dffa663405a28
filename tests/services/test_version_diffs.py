"""Two versions of a dataset compared, on SQLite and PostgreSQL: only real differences
count (an item changed and changed back is unchanged), either direction reads sensibly,
and the differences come a page at a time."""

import pytest

from seedbed.domain.errors import InvalidInput, NotFound
from seedbed.services import datasets, item_changes, items, version_diffs, versions
from seedbed.services.context import Caller

CALLER = Caller()


def _change(connection, dataset_id, added=(), edited=(), deleted=()):
    latest = versions.resolve_version(
        connection, datasets.require_dataset(connection, CALLER, dataset_id), "latest"
    )
    item_changes.apply_changes(
        connection,
        CALLER,
        dataset_id,
        item_changes.VersionChanges(
            base_version=latest.id,
            added=[items.draft_from_fields(fields) for fields in added],
            edited=list(edited),
            deleted=list(deleted),
        ),
    )


@pytest.fixture
def history(database):
    """v1: a, b, c, d. v2: b edited, c deleted, e added, d edited. v3: d edited back,
    e deleted, f added."""
    ids = {name: f"01a24f00-0000-7000-8000-00000000000{n}" for n, name in enumerate("abcdef")}
    with database.writing() as connection:
        dataset = datasets.create_dataset(connection, CALLER, "history")
        items.upsert_items(
            connection,
            CALLER,
            [items.draft_from_fields({"id": ids[n], "data": {"name": n, "n": 1}}) for n in "abcd"],
            dataset_id=dataset.id,
        )
        _change(
            connection,
            dataset.id,
            added=[{"id": ids["e"], "data": {"name": "e", "n": 1}}],
            edited=[
                {"id": ids["b"], "data": {"name": "b", "n": 2}},
                {"id": ids["d"], "data": {"name": "d", "n": 2, "extra": True}},
            ],
            deleted=[ids["c"]],
        )
        _change(
            connection,
            dataset.id,
            added=[{"id": ids["f"], "data": {"name": "f", "n": 1}}],
            edited=[{"id": ids["d"], "data": {"name": "d", "n": 1}}],
            deleted=[ids["e"]],
        )
    return database, dataset.id, ids


def _compare(database, dataset_id, before, after, **options):
    with database.reading() as connection:
        return version_diffs.compare_versions(
            connection, CALLER, dataset_id, before, after, **options
        )


def _names(comparison) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for difference in comparison.content:
        item = difference.after or difference.before
        found.setdefault(difference.kind, []).append(item.data["name"])
    return found


def test_next_versions_differ_by_what_each_change_did(history) -> None:
    database, dataset_id, _ = history
    comparison = _compare(database, dataset_id, "v1", "v2")
    assert comparison.counts == {"added": 1, "removed": 1, "changed": 2}
    assert _names(comparison) == {"added": ["e"], "removed": ["c"], "changed": ["b", "d"]}
    changed = {d.after.data["name"]: d.changed_fields for d in comparison.content if d.after}
    assert changed["b"] == ["data.n"]
    assert changed["d"] == ["data.n", "data.extra"]


def test_a_change_undone_later_is_no_difference(history) -> None:
    database, dataset_id, _ = history
    comparison = _compare(database, dataset_id, "v1", "v3")
    # d went 1 -> 2 -> 1; e came and went: neither differs between v1 and v3.
    assert _names(comparison) == {"added": ["f"], "removed": ["c"], "changed": ["b"]}
    assert comparison.total == 3


def test_the_other_direction_swaps_added_and_removed(history) -> None:
    database, dataset_id, _ = history
    comparison = _compare(database, dataset_id, "v3", "v1")
    assert _names(comparison) == {"added": ["c"], "removed": ["f"], "changed": ["b"]}
    (changed,) = [d for d in comparison.content if d.kind == "changed"]
    assert (changed.before.data["n"], changed.after.data["n"]) == (2, 1)


def test_differences_come_a_page_at_a_time_and_by_kind(history) -> None:
    database, dataset_id, _ = history
    first = _compare(database, dataset_id, "v1", "v2", size=3)
    second = _compare(database, dataset_id, "v1", "v2", size=3, page=2)
    assert (len(first.content), len(second.content), first.total) == (3, 1, 4)
    seen = [d.item_id for d in first.content + second.content]
    assert seen == sorted(seen) and len(set(seen)) == 4
    only_changed = _compare(database, dataset_id, "v1", "v2", kinds=("changed",))
    assert only_changed.total == 2 and only_changed.counts["added"] == 1
    assert {d.kind for d in only_changed.content} == {"changed"}


def test_the_same_version_has_no_differences(history) -> None:
    database, dataset_id, _ = history
    comparison = _compare(database, dataset_id, "v2", "v2")
    assert comparison.total == 0 and comparison.content == []


def test_unknown_versions_and_kinds_are_refused(history) -> None:
    database, dataset_id, _ = history
    with pytest.raises(NotFound, match="v9"):
        _compare(database, dataset_id, "v1", "v9")
    with pytest.raises(InvalidInput, match="kinds of difference"):
        _compare(database, dataset_id, "v1", "v2", kinds=("renamed",))
    with pytest.raises(NotFound):
        with database.reading() as connection:
            version_diffs.compare_versions(
                connection, Caller(workspace="elsewhere"), dataset_id, "v1", "v2"
            )
