"""Tables in and out of the SDK: rows come back as :class:`Records` (a list of dicts
that turns into a pandas DataFrame with ``to_pandas()``), and a DataFrame can be given
wherever seeds are taken. pandas is the ``pandas`` extra, imported only when used."""

import math
from collections.abc import Iterable, Mapping
from typing import Any

PANDAS_HINT = "DataFrames need pandas: pip install 'seedbed[pandas]'"


class Records(list):
    """Rows as dicts, in the order the server gave them."""

    def to_pandas(self):
        """One row per record, one column per key (in the order keys first appear)."""
        try:
            import pandas
        except ImportError:
            raise ImportError(PANDAS_HINT) from None
        columns = list(dict.fromkeys(key for row in self for key in row))
        return pandas.DataFrame.from_records(list(self), columns=columns)


def seed_rows(seeds: Any) -> list[dict[str, Any]]:
    """Seeds as the API takes them: a DataFrame's rows (missing values left out), or the
    mappings given."""
    if hasattr(seeds, "to_dict") and hasattr(seeds, "columns"):
        return [
            {str(key): value for key, value in row.items() if not _missing(value)}
            for row in seeds.to_dict(orient="records")
        ]
    return [dict(row) for row in _mappings(seeds)]


def _mappings(seeds: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    for row in seeds:
        if not isinstance(row, Mapping):
            raise TypeError(f"each seed must be a mapping, not {type(row).__name__}")
        yield row


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
