"""Item files on disk, read and written a batch at a time so that a file of any size
takes flat memory: JSONL, JSON and CSV (``domain.imports``), Parquet, and Hugging Face
``datasets`` folders — what ``Dataset.save_to_disk`` writes (Arrow files with a
``state.json``; a ``DatasetDict`` has one folder per split) and the Hub's parquet layout
(``data/train-00000-of-00001.parquet``, or ``<config>/<split>/0000.parquet``).

Parquet and Arrow need pyarrow, the ``formats`` extra; it is imported only here, when
such a file is read or written.
"""

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from seedbed.domain import imports
from seedbed.domain.errors import InvalidInput

BATCH_ROWS = 1_000
HF_SHARD = "data-00000-of-00001.arrow"
FORMATS_HINT = "install the formats extra: pip install 'seedbed[formats]'"
_HUB_SHARD = re.compile(r"^(?P<split>[\w.]+?)-\d{5}-of-\d{5}\.parquet$")


def read_item_rows(
    path: Path, file_format: str | None = None, split: str | None = None
) -> Iterator[dict[str, Any]]:
    """The rows of ``path`` as item fields (``data`` plus the item's own fields)."""
    chosen = file_format or imports.detect_format(path.name, is_folder=path.is_dir())
    if chosen in imports.TEXT_FORMATS:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            yield from imports.read_lines(lines, chosen)
        return
    if chosen == "parquet":
        batches = _parquet_batches([path])
    elif chosen == imports.HF_FOLDER:
        batches = _hf_folder_batches(path, split)
    else:
        raise InvalidInput(
            f"unknown format {chosen!r}; expected one of {', '.join(imports.FORMATS)}"
        )
    for batch in batches:
        for row in batch.to_pylist():
            yield imports.split_reserved(row)


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        raise InvalidInput(
            f"Parquet and Hugging Face folders need pyarrow: {FORMATS_HINT}"
        ) from None
    return pyarrow


def _parquet_batches(files: Iterable[Path]) -> Iterator[Any]:
    pa = _pyarrow()
    for file in files:
        try:
            parquet = pa.parquet.ParquetFile(file)
        except (pa.ArrowException, OSError) as error:
            raise InvalidInput(f"{file}: not a readable Parquet file ({error})") from None
        yield from parquet.iter_batches(batch_size=BATCH_ROWS)


def _arrow_batches(files: Iterable[Path]) -> Iterator[Any]:
    pa = _pyarrow()
    for file in files:
        try:
            with pa.memory_map(str(file)) as source:
                yield from pa.ipc.open_stream(source)
        except pa.ArrowInvalid as error:
            raise InvalidInput(f"{file}: not a readable Arrow file ({error})") from None


def _hf_folder_batches(folder: Path, split: str | None) -> Iterator[Any]:
    if (folder / "dataset_dict.json").is_file():  # DatasetDict.save_to_disk
        splits = json.loads((folder / "dataset_dict.json").read_text()).get("splits", [])
        return _hf_folder_batches(folder / _chosen_split(folder, splits, split), None)
    if (folder / "state.json").is_file():  # Dataset.save_to_disk
        state = json.loads((folder / "state.json").read_text())
        files = [folder / entry["filename"] for entry in state.get("_data_files", [])]
        return _arrow_batches(files)
    shards = sorted(folder.rglob("*.parquet"))
    if not shards:
        raise InvalidInput(
            f"{folder} is not a Hugging Face datasets folder: no state.json, "
            "dataset_dict.json or .parquet files in it"
        )
    by_split: dict[str, list[Path]] = {}
    for shard in shards:
        by_split.setdefault(_split_of(shard), []).append(shard)
    return _parquet_batches(by_split[_chosen_split(folder, list(by_split), split)])


def _split_of(shard: Path) -> str:
    """``data/train-00000-of-00002.parquet`` → train; ``default/test/0000.parquet`` → test."""
    if (match := _HUB_SHARD.match(shard.name)) is not None:
        return match["split"]
    return shard.parent.name


def _chosen_split(folder: Path, splits: list[str], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in splits:
            raise InvalidInput(f"{folder} has no split {wanted!r}; its splits: {', '.join(splits)}")
        return wanted
    if len(splits) == 1:
        return splits[0]
    if "train" in splits:
        return "train"
    raise InvalidInput(
        f"{folder} has several splits ({', '.join(splits)}): choose one with --split"
    )


# -- writing ------------------------------------------------------------------------------


class ColumnarWriter:
    """Rows written to Parquet or to a ``save_to_disk`` folder a batch at a time. The
    columns' types are those of the first batch (columns empty there are text); a later
    row that does not fit them is refused with the column's name."""

    def __init__(self, destination: Path, file_format: str) -> None:
        self.pa = _pyarrow()
        self.destination = destination
        self.file_format = file_format
        self.schema = None
        self._sink = None
        self._writer = None
        self.rows = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.schema is None:
            self._open(rows)
        try:
            table = self.pa.Table.from_pylist(rows, schema=self.schema)
        except (self.pa.ArrowInvalid, self.pa.ArrowTypeError, TypeError) as error:
            raise InvalidInput(
                f"the items' values do not fit one column type ({error}); "
                "export as jsonl instead, which keeps any JSON"
            ) from None
        self._writer.write_table(table)
        self.rows += len(rows)

    def close(self, columns: list[str]) -> None:
        if self.schema is None:  # no rows: still a valid, empty file
            self._open([dict.fromkeys(columns, "")], empty=True)
        self._writer.close()
        if self._sink is not None:
            self._sink.close()
        if self.file_format == imports.HF_FOLDER:
            _write_hf_metadata(self.destination)

    def _open(self, rows: list[dict[str, Any]], empty: bool = False) -> None:
        pa = self.pa
        inferred = pa.Table.from_pylist(rows).schema
        self.schema = pa.schema(
            [
                pa.field(field.name, pa.string())
                if empty or pa.types.is_null(field.type)
                else field
                for field in inferred
            ]
        )
        if self.file_format == "parquet":
            self._writer = pa.parquet.ParquetWriter(str(self.destination), self.schema)
            return
        self.destination.mkdir(parents=True, exist_ok=True)
        self._sink = pa.OSFile(str(self.destination / HF_SHARD), "wb")
        self._writer = pa.ipc.new_stream(self._sink, self.schema)


def _write_hf_metadata(folder: Path) -> None:
    """What ``datasets.load_from_disk`` reads besides the Arrow file; the features are
    derived from the Arrow schema when the info names none."""
    state = {
        "_data_files": [{"filename": HF_SHARD}],
        "_fingerprint": "seedbed-export",
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (folder / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
    info = {"citation": "", "description": "", "homepage": "", "license": ""}
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
