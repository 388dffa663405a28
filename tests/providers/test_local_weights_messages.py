"""The first use of the embedded model says what it is doing while a person waits:
assembling the weights (once), then that they are verified; a later use says nothing."""

import hashlib
import logging

from seedbed.providers.local_weights import assemble_weights


def test_assembling_the_weights_is_announced_once(tmp_path, caplog):
    chunks = []
    for number, content in enumerate((b"first part ", b"second part")):
        chunk = tmp_path / f"part{number}.bin"
        chunk.write_bytes(content)
        chunks.append(chunk)
    whole = b"first part second part"
    destination = tmp_path / "models" / "model.gguf"
    expected = {"expected_size": len(whole), "expected_sha256": hashlib.sha256(whole).hexdigest()}

    with caplog.at_level(logging.INFO, logger="seedbed.providers.local"):
        assemble_weights(chunks, destination, **expected)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "assembling the embedded model's weights" in messages[0] and "2 parts" in messages[0]
    assert str(destination) in messages[0] and "happens once" in messages[0]
    assert messages[1].startswith("weights verified (sha256 ")

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="seedbed.providers.local"):
        assemble_weights(chunks, destination, **expected)
    assert caplog.records == []
