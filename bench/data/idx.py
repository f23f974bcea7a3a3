"""IDX files (the MNIST format): a strict reader, a writer, and the four-file directory layout.

IDX layout (yann.lecun.com/exdb/mnist): a big-endian uint32 magic `0x0000TTDD` (TT = 0x08 for
unsigned bytes, DD = number of dimensions), then DD big-endian uint32 sizes, then the data.
Every way a file can be wrong becomes one `DataError` naming the file, the problem and the fix.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import DataError

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions: (count, rows, cols)
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension: (count,)
ROWS = COLS = 28
NUM_CLASSES = 10
GZIP_MAGIC = b"\x1f\x8b"

# The four standard files by split and kind; each may be stored gz or raw.
STANDARD_NAMES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
FIX = "replace it with a fresh copy of the standard file"


@dataclass(frozen=True, eq=False)
class IdxFile:
    """One validated IDX file."""

    path: Path
    array: np.ndarray  # images (N, 28, 28) or labels (N,), uint8, writable
    sha256: str  # of the uncompressed content, so gz and raw copies hash alike


def _fail(path: Path, problem: str, fix: str = FIX) -> DataError:
    return DataError(f"{path}: {problem}; {fix}")


def read_bytes(path: Path) -> bytes:
    """The file's uncompressed content. Gzip is recognised by its magic bytes, so a raw file
    works under either name, but a `.gz` name must hold gzip data."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "file not found", "check the path") from None
    except IsADirectoryError:
        raise _fail(path, "is a directory, not an IDX file", "remove or rename it") from None
    except PermissionError:
        raise _fail(path, "permission denied", "make it readable (chmod a+r)") from None
    except OSError as err:
        raise _fail(path, f"cannot be read ({err.strerror or err})", "check the disk") from None
    if not raw:
        raise _fail(path, "is empty (0 bytes)")
    if raw[:2] != GZIP_MAGIC:
        if path.suffix == ".gz":
            raise _fail(path, f"is named .gz but is not gzip data (starts with {raw[:4].hex()})")
        return raw
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise _fail(path, f"corrupted gzip data ({err})") from None
    if not data:
        raise _fail(path, "decompresses to 0 bytes")
    return data


def _header(data: bytes, path: Path, magic: int, what: str) -> tuple[int, list[int]]:
    """Check the magic and return (header length, dimension sizes)."""
    if len(data) < 4:
        raise _fail(path, f"only {len(data)} bytes, too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        other = {IMAGES_MAGIC: "an images file", LABELS_MAGIC: "a labels file"}.get(found)
        hint = f" - it looks like {other}; are the files swapped?" if other else ""
        raise _fail(path, f"bad magic number 0x{found:08x}, expected 0x{magic:08x} "
                          f"(IDX {what}){hint}")
    ndim = magic & 0xFF
    end = 4 + 4 * ndim
    if len(data) < end:
        raise _fail(path, f"truncated IDX header ({len(data)} of {end} bytes)")
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).tolist()
    return end, dims


def _check_length(data: bytes, path: Path, start: int, count: int, item: int, what: str) -> None:
    if count == 0:
        raise _fail(path, f"the header declares 0 {what}")
    expected = start + count * item
    if len(data) < expected:
        raise _fail(path, f"truncated: the header declares {count} {what} ({expected} bytes) "
                          f"but the file has {len(data)} bytes")
    if len(data) > expected:
        raise _fail(path, f"{len(data) - expected} bytes of trailing data after the {count} "
                          f"{what} the header declares")


def parse_images(data: bytes, path: Path) -> np.ndarray:
    """(N, 28, 28) uint8 from the content of an IDX images file."""
    start, (count, rows, cols) = _header(data, path, IMAGES_MAGIC, "images, uint8 Nx28x28")
    if (rows, cols) != (ROWS, COLS):
        raise _fail(path, f"images are {rows}x{cols}, expected {ROWS}x{COLS}",
                    "use MNIST-format 28x28 images")
    _check_length(data, path, start, count, rows * cols, "images")
    pixels = np.frombuffer(data, dtype=np.uint8, offset=start)  # read-only view
    return pixels.reshape(count, rows, cols).copy()  # (N, 28, 28), writable for torch


def parse_labels(data: bytes, path: Path) -> np.ndarray:
    """(N,) uint8 in 0..9 from the content of an IDX labels file."""
    start, (count,) = _header(data, path, LABELS_MAGIC, "labels, uint8 N")
    _check_length(data, path, start, count, 1, "labels")
    labels = np.frombuffer(data, dtype=np.uint8, offset=start).copy()  # (N,)
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise _fail(path, f"{bad.size} label(s) outside 0..{NUM_CLASSES - 1} "
                          f"(first: {labels[bad[0]]} at index {bad[0]})")
    return labels


def read_idx(path: Path, kind: str) -> IdxFile:
    """Read and validate one IDX file; `kind` is "images" or "labels"."""
    data = read_bytes(path)
    array = parse_images(data, path) if kind == "images" else parse_labels(data, path)
    return IdxFile(path, array, hashlib.sha256(data).hexdigest())


def encode_images(images: np.ndarray) -> bytes:
    """IDX content for (N, 28, 28) uint8 images."""
    header = np.array([IMAGES_MAGIC, *images.shape], dtype=">u4").tobytes()
    return header + np.ascontiguousarray(images, dtype=np.uint8).tobytes()


def encode_labels(labels: np.ndarray) -> bytes:
    """IDX content for (N,) uint8 labels."""
    header = np.array([LABELS_MAGIC, len(labels)], dtype=">u4").tobytes()
    return header + np.ascontiguousarray(labels, dtype=np.uint8).tobytes()


def candidates(stem: str) -> list[str]:
    """Accepted file names for a standard stem: gz or raw, and the dotted spelling some
    mirrors use (`train-images.idx3-ubyte`). The first that exists wins."""
    dotted = stem.replace("-idx", ".idx")
    return [f"{stem}.gz", stem, f"{dotted}.gz", dotted]


def find_files(directory: Path, label: str) -> dict[str, Path]:
    """Standard stem -> the file holding it in `directory` (which must exist and be readable)."""
    try:
        present = {p.name for p in directory.iterdir()}
    except FileNotFoundError:
        raise DataError(f"{label} {directory} does not exist; point it at a directory holding "
                        f"the four MNIST IDX files") from None
    except NotADirectoryError:
        raise DataError(f"{label} {directory} is a file, not a directory; point it at the "
                        f"directory holding the four MNIST IDX files") from None
    except PermissionError:
        raise DataError(f"{label} {directory}: permission denied listing the directory; "
                        f"make it readable (chmod a+rx)") from None
    found, missing = {}, []
    for stem in STANDARD_NAMES.values():
        name = next((n for n in candidates(stem) if n in present), None)
        if name is None:
            missing.append(f"{stem}[.gz]")
        else:
            found[stem] = directory / name
    if missing:
        raise DataError(f"{label} {directory} is missing {', '.join(missing)}; it needs the four "
                        f"MNIST IDX files (gz or raw): {', '.join(STANDARD_NAMES.values())}")
    return found


@dataclass(frozen=True, eq=False)
class Split:
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) uint8


def read_dir(directory: Path, label: str) -> tuple[dict[str, Split], dict[str, str]]:
    """Read the four files: ({"train": Split, "test": Split}, {stem: sha256 of uncompressed})."""
    paths = find_files(directory, label)
    arrays, hashes = {}, {}
    for (split, kind), stem in STANDARD_NAMES.items():
        idx = read_idx(paths[stem], kind)
        arrays[split, kind] = idx.array
        hashes[stem] = idx.sha256
    splits = {}
    for split in ("train", "test"):
        images, labels = arrays[split, "images"], arrays[split, "labels"]
        if len(images) != len(labels):
            img, lab = (paths[STANDARD_NAMES[split, k]].name for k in ("images", "labels"))
            raise DataError(f"{directory}: {img} has {len(images)} images but {lab} has "
                            f"{len(labels)} labels; the two files must come from the same set — "
                            "replace both with fresh copies of the standard files")
        splits[split] = Split(images, labels)
    return splits, hashes
