from seedbed.domain.versions import (
    combine_digest,
    compare_snapshots,
    item_digest,
    sequence_from_name,
    version_hash,
    version_name,
)


def test_digest_depends_on_content_not_on_order():
    a, b, c = (item_digest(i, "h" + i) for i in ("1", "2", "3"))
    forwards = combine_digest(combine_digest(combine_digest(0, a), b), c)
    backwards = combine_digest(combine_digest(combine_digest(0, c), b), a)
    assert forwards == backwards
    assert combine_digest(forwards, removed=b) == combine_digest(combine_digest(0, a), c)


def test_changing_an_item_changes_the_digest():
    assert item_digest("1", "old") != item_digest("1", "new")


def test_version_hash_names_dataset_place_and_content():
    assert version_hash("d", 1, 5) != version_hash("d", 2, 5)
    assert version_hash("d", 1, 5) != version_hash("e", 1, 5)
    assert version_hash("d", 1, 5) == version_hash("d", 1, 5)


def test_version_names_round_trip():
    assert version_name(12) == "v12"
    assert sequence_from_name("v12") == 12
    assert sequence_from_name("latest") is None


def test_compare_snapshots_counts_each_kind_of_change():
    before = {"kept": 1, "changed": 2, "gone": 3}
    after = {"kept": 1, "changed": 4, "new": 5}
    changes, unchanged = compare_snapshots(before, after)
    assert (changes.added, changes.modified, changes.deleted, unchanged) == (1, 1, 1, 1)
