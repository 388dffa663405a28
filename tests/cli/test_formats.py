"""The file formats people already use, through ``seedbed datasets import/export`` run as
a user runs it: Parquet files and Hugging Face ``datasets`` folders (written and read
back by the real ``datasets`` library, and the Hub's parquet layout), the dataset's own
order in exports, and ``--json`` for scripts. On SQLite and PostgreSQL."""

import json

import datasets as hf
import pandas
import pyarrow as pa
import pyarrow.parquet as pq

ROWS = [
    {
        "question": f"Question {n}?",
        "answer": f"Answer {n}.",
        "difficulty": n % 3,
        "context": {"topic": "billing" if n % 2 else "shipping", "turns": [f"t{n}", "t"]},
    }
    for n in range(12)
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _exported(seedbed_process, name, *options) -> list[dict]:
    printed = seedbed_process.run("datasets", "export", name, *options).stdout
    return [json.loads(line) for line in printed.splitlines()]


def _data(rows: list[dict]) -> list[dict]:
    own = {"id", "source", "tags", "description", "evaluators", "execution_policy"}
    return [{key: value for key, value in row.items() if key not in own} for row in rows]


def test_exports_keep_the_order_the_items_were_added_in(seedbed_process, tmp_path):
    seedbed_process.run("datasets", "import", _jsonl(tmp_path / "q.jsonl", ROWS), "-d", "faq")

    assert _data(_exported(seedbed_process, "faq")) == ROWS
    assert _data(_exported(seedbed_process, "faq", "--order", "newest")) == ROWS[::-1]


def test_parquet_round_trip_keeps_items_types_and_tags(seedbed_process, tmp_path):
    rows = [{**row, "tags": ["gold"]} if n < 3 else row for n, row in enumerate(ROWS)]
    seedbed_process.run("datasets", "import", _jsonl(tmp_path / "q.jsonl", rows), "-d", "faq")
    path = tmp_path / "faq.parquet"

    written = seedbed_process.json("datasets", "export", "faq", "--format", "parquet", "-o", path)
    assert written == {"dataset": "faq", "format": "parquet", "items": 12, "output": str(path)}
    frame = pandas.read_parquet(path)
    assert list(frame["question"]) == [row["question"] for row in ROWS]
    assert frame["difficulty"].dtype == "int64"

    imported = seedbed_process.json("datasets", "import", path, "-d", "copy")
    assert imported["added"] == 12
    original, copy = _exported(seedbed_process, "faq"), _exported(seedbed_process, "copy")
    assert copy == original
    assert [row.get("tags") for row in copy[:4]] == [["gold"], ["gold"], ["gold"], None]


def test_a_save_to_disk_folder_imports_and_an_hf_export_loads(seedbed_process, tmp_path):
    folder = tmp_path / "saved"
    hf.Dataset.from_list(ROWS).save_to_disk(str(folder))

    seedbed_process.run("datasets", "import", folder, "-d", "from-hf")
    assert _data(_exported(seedbed_process, "from-hf")) == ROWS

    out = tmp_path / "exported"
    seedbed_process.run("datasets", "export", "from-hf", "--format", "hf", "-o", out)
    loaded = hf.load_from_disk(str(out))
    assert len(loaded) == len(ROWS)
    assert [{key: row[key] for key in ROWS[0]} for row in loaded] == ROWS


def test_a_dataset_dict_folder_imports_the_split_asked_for(seedbed_process, tmp_path):
    folder = tmp_path / "splits"
    hf.DatasetDict(
        {"train": hf.Dataset.from_list(ROWS[:8]), "test": hf.Dataset.from_list(ROWS[8:])}
    ).save_to_disk(str(folder))

    seedbed_process.run("datasets", "import", folder, "-d", "train")
    seedbed_process.run("datasets", "import", folder, "-d", "test", "--split", "test")

    assert _data(_exported(seedbed_process, "train")) == ROWS[:8]
    assert _data(_exported(seedbed_process, "test")) == ROWS[8:]


def test_the_hubs_parquet_layout_imports_by_split(seedbed_process, tmp_path):
    data = tmp_path / "hub" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(ROWS[:5]), data / "train-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(ROWS[5:9]), data / "train-00001-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(ROWS[9:]), data / "validation-00000-of-00001.parquet")

    seedbed_process.run("datasets", "import", tmp_path / "hub", "-d", "hub")
    assert _data(_exported(seedbed_process, "hub")) == ROWS[:9]

    refused = seedbed_process.run(
        "datasets", "import", tmp_path / "hub", "-d", "x", "--split", "test", check=False
    )
    assert refused.returncode == 1
    assert "has no split 'test'; its splits: train, validation" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_file_that_is_not_parquet_is_refused_clearly(seedbed_process, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet", encoding="utf-8")

    refused = seedbed_process.run("datasets", "import", broken, "-d", "x", check=False)

    assert refused.returncode == 1
    assert "not a readable Parquet file" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert seedbed_process.json("datasets", "list") == []
