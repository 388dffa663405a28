"""The first items of a compare page sorted on a feedback score, found without ranking
every item.

An item's sort value is the average of its matching runs' values, so an item none of
whose runs has been read yet cannot sort before the last value read (an average is never
above its largest value, nor below its smallest). Reading the score's rows in sort order
from its index, and averaging each newly seen item exactly, the first ``wanted`` items
are known once the ``wanted``-th best average is ahead of the last value read: a few
hundred rows for a page of a hundred items, where ranking every item reads them all.
"""

import sqlalchemy as sa

_FIRST_BATCH = 16
_CANDIDATES_AT_ONCE = 500
# Averages of equal values may differ from that value in the last bits: stop only once
# the items found are ahead by more than that.
_RELATIVE_MARGIN = 1e-9


def first_by_score(repository, query, wanted: int) -> list[int] | None:
    """The item rows of the first ``wanted`` items of ``query`` (sorted on a score) in
    order, or ``None`` when items without the score would be among them."""
    runs = repository._runs(query, by_score=query.sort.key)
    value = runs.columns["feedback_scores"](query.sort.key)
    high, low = runs.item
    sign = -1 if query.sort.descending else 1
    stream = (
        sa.select(high, low, value)
        .select_from(runs.source)
        .where(*runs.where, runs.item_row_id.is_not(None), value.is_not(None))
        .order_by(value.desc() if query.sort.descending else value.asc(), high.desc(), low.desc())
    )
    ranked: dict[tuple[int, int], tuple] = {}  # item → (sort key, row id)
    offset, batch = 0, max(_FIRST_BATCH, 4 * wanted)
    while True:
        rows = repository.connection.execute(stream.limit(batch).offset(offset)).all()
        new = sorted({(row[0], row[1]) for row in rows} - set(ranked))
        for start in range(0, len(new), _CANDIDATES_AT_ONCE):
            chunk = new[start : start + _CANDIDATES_AT_ONCE]
            for found in repository.connection.execute(repository.matched_items(query, chunk)):
                item = (found.item_high, found.item_low)
                ranked[item] = ((sign * found.sort_value, -item[0], -item[1]), found.row_id)
        best = sorted(ranked.values())
        if len(rows) < batch:  # every item with a value is known
            return [row_id for _, row_id in best[:wanted]] if len(best) >= wanted else None
        last = sign * rows[-1][2]
        margin = _RELATIVE_MARGIN * max(1.0, abs(last))
        if len(best) >= wanted and best[wanted - 1][0][0] < last - margin:
            return [row_id for _, row_id in best[:wanted]]
        offset, batch = offset + batch, batch * 2
