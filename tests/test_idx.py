"""bench.idx: the strict IDX reader on small synthetic files, gz and raw, and every broken kind."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from bench.data.idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    STANDARD_NAMES,
    encode_images,
    encode_labels,
    find_files,
    read_dir,
    read_idx,
)
from bench.errors import DataError

TRAIN_IMAGES, TRAIN_LABELS = STANDARD_NAMES["train", "images"], STANDARD_NAMES["train", "labels"]
TEST_IMAGES, TEST_LABELS = STANDARD_NAMES["test", "images"], STANDARD_NAMES["test", "labels"]


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) uint8 images and (n,) labels cycling through 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (np.arange(n) % 10).astype(np.uint8)


def write(path: Path, content: bytes, gz: bool) -> Path:
    path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
    return path


def write_dataset(directory: Path, n_train: int = 30, n_test: int = 20, gz: bool = True,
                  **override: bytes) -> dict[str, bytes]:
    """Write the four standard files; `override` maps a stem (with `-` as `_`) to raw content
    that replaces the good content (then compressed like the rest). Returns stem -> content."""
    directory.mkdir(parents=True, exist_ok=True)
    (xtr, ytr), (xte, yte) = synthetic(n_train, 0), synthetic(n_test, 1)
    contents = {TRAIN_IMAGES: encode_images(xtr), TRAIN_LABELS: encode_labels(ytr),
                TEST_IMAGES: encode_images(xte), TEST_LABELS: encode_labels(yte)}
    for stem in contents:
        contents[stem] = override.get(stem.replace("-", "_"), contents[stem])
        write(directory / (f"{stem}.gz" if gz else stem), contents[stem], gz)
    return contents


@pytest.mark.parametrize("gz", [True, False])
def test_round_trip_gz_and_raw(tmp_path, gz):
    images, labels = synthetic(7, 3)
    content = encode_images(images)
    got = read_idx(write(tmp_path / ("x.gz" if gz else "x"), content, gz), "images")
    np.testing.assert_array_equal(got.array, images)
    assert got.array.flags.writeable and got.array.shape == (7, 28, 28)
    assert got.sha256 == hashlib.sha256(content).hexdigest()  # of the uncompressed content
    lab = read_idx(write(tmp_path / "y", encode_labels(labels), gz), "labels")
    np.testing.assert_array_equal(lab.array, labels)


def test_header_is_big_endian_idx():
    content = encode_images(np.zeros((2, 28, 28), np.uint8))
    assert content[:16] == bytes.fromhex("00000803" "00000002" "0000001c" "0000001c")
    assert encode_labels(np.array([3], np.uint8)) == bytes.fromhex("00000801" "00000001" "03")


@pytest.mark.parametrize("gz", [True, False])
def test_read_dir_gz_or_raw_same_hashes(tmp_path, gz):
    contents = write_dataset(tmp_path / "d", gz=gz)
    splits, hashes = read_dir(tmp_path / "d", "data dir")
    assert splits["train"].images.shape == (30, 28, 28) and splits["test"].labels.shape == (20,)
    assert hashes == {s: hashlib.sha256(c).hexdigest() for s, c in contents.items()}


def test_dotted_names_and_unsuffixed_gzip_are_accepted(tmp_path):
    contents = write_dataset(tmp_path, gz=False)
    (tmp_path / TRAIN_IMAGES).rename(tmp_path / "train-images.idx3-ubyte")
    write(tmp_path / TEST_LABELS, contents[TEST_LABELS], gz=True)  # gzip data under a raw name
    paths = find_files(tmp_path, "data dir")
    assert paths[TRAIN_IMAGES].name == "train-images.idx3-ubyte"
    splits, _ = read_dir(tmp_path, "data dir")
    assert len(splits["test"].labels) == 20


def test_gz_is_preferred_when_both_exist(tmp_path):
    write_dataset(tmp_path, gz=True)
    write_dataset(tmp_path, gz=False)
    assert all(p.suffix == ".gz" for p in find_files(tmp_path, "data dir").values())


GOOD_IMAGES = encode_images(synthetic(30, 0)[0])
GOOD_LABELS = encode_labels(synthetic(30, 0)[1])
BROKEN = {  # case -> (override for write_dataset, words the message must contain)
    "labels magic in images": ({"train_images_idx3_ubyte": GOOD_LABELS[:8] + GOOD_IMAGES[8:]},
                               ["bad magic", "0x00000801", "swapped"]),
    "random magic": ({"train_labels_idx1_ubyte": b"\x12\x34\x56\x78" + GOOD_LABELS[4:]},
                     ["bad magic", "0x12345678", TRAIN_LABELS]),
    "truncated data": ({"train_images_idx3_ubyte": GOOD_IMAGES[:-100]}, ["truncated"]),
    "truncated header": ({"t10k_labels_idx1_ubyte": GOOD_LABELS[:6]}, ["truncated IDX header"]),
    "too short": ({"t10k_labels_idx1_ubyte": b"\x00\x00"}, ["too short"]),
    "trailing garbage": ({"train_labels_idx1_ubyte": GOOD_LABELS + b"xyz"},
                         ["3 bytes of trailing data"]),
    "label out of range": ({"train_labels_idx1_ubyte": GOOD_LABELS[:-1] + b"\x0a"},
                           ["outside 0..9", "first: 10 at index 29"]),
    "wrong dims": ({"train_images_idx3_ubyte": np.array([IMAGES_MAGIC, 2, 32, 32], ">u4")
                    .tobytes() + bytes(2 * 32 * 32)}, ["32x32", "expected 28x28"]),
    "zero count": ({"t10k_labels_idx1_ubyte": np.array([LABELS_MAGIC, 0], ">u4").tobytes()},
                   ["declares 0 labels"]),
    "count mismatch": ({"train_labels_idx1_ubyte": encode_labels(np.zeros(29, np.uint8))},
                       ["30 images", "29 labels"]),
    "decompresses to nothing": ({"t10k_images_idx3_ubyte": b""}, ["decompresses to 0 bytes"]),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_content_is_one_clear_error(tmp_path, case):
    override, words = BROKEN[case]
    write_dataset(tmp_path, **override)
    with pytest.raises(DataError) as err:
        read_dir(tmp_path, "data dir")
    message = str(err.value)
    assert "\n" not in message and str(tmp_path) in message
    for word in words:
        assert word in message


def corrupt_gzip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


FILE_DAMAGE = {  # case -> (damage to train-images .gz, words)
    "corrupted gzip": (corrupt_gzip, ["corrupted gzip"]),
    "truncated gzip": (lambda p: p.write_bytes(p.read_bytes()[:200]), ["corrupted gzip"]),
    "gzip trailing garbage": (lambda p: p.write_bytes(p.read_bytes() + b"junk"),
                              ["corrupted gzip"]),
    "not gzip under .gz": (lambda p: p.write_bytes(GOOD_IMAGES), ["not gzip data"]),
    "empty file": (lambda p: p.write_bytes(b""), ["empty (0 bytes)"]),
    "directory instead of file": (lambda p: (p.unlink(), p.mkdir()), ["is a directory"]),
    "dangling symlink": (lambda p: (p.unlink(), p.symlink_to(p.parent / "gone")),
                         ["file not found"]),
}


@pytest.mark.parametrize("case", FILE_DAMAGE)
def test_damaged_file_is_one_clear_error(tmp_path, case):
    damage, words = FILE_DAMAGE[case]
    write_dataset(tmp_path)
    damage(tmp_path / f"{TRAIN_IMAGES}.gz")
    with pytest.raises(DataError, match=f"{TRAIN_IMAGES}.gz") as err:
        read_dir(tmp_path, "data dir")
    assert "\n" not in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_permission_denied_file(tmp_path, monkeypatch):
    write_dataset(tmp_path)
    real = Path.read_bytes

    def read_bytes(path: Path) -> bytes:  # root ignores chmod, so simulate the refusal
        if path.name.startswith(TEST_IMAGES):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DataError, match=f"{TEST_IMAGES}.gz: permission denied"):
        read_dir(tmp_path, "data dir")


def test_missing_files_are_all_named(tmp_path):
    write_dataset(tmp_path)
    (tmp_path / f"{TEST_IMAGES}.gz").unlink()
    (tmp_path / f"{TEST_LABELS}.gz").unlink()
    with pytest.raises(DataError, match=f"missing {TEST_IMAGES}\\[.gz\\], {TEST_LABELS}\\[.gz\\]"):
        read_dir(tmp_path, "data dir")


def test_directory_problems(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="does not exist"):
        find_files(tmp_path / "nope", "data dir")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file, not a directory"):
        find_files(tmp_path / "file", "data dir")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(DataError, match="permission denied listing"):
        find_files(tmp_path, "data dir")
