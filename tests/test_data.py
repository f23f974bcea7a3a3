"""bench.data: resolution order, the real and the bundled MNIST, downloads, tensors, `data`."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import urllib.error
from pathlib import Path

import pytest
import torch

from bench.data import sources as data
from bench.data.command import data_command
from bench.data.idx import STANDARD_NAMES, find_files, read_bytes
from bench.data.sources import ASSETS, load
from bench.data.specs import DATASETS, MNIST, SUBSET_SHA256
from bench.data.tensors import select_balanced, to_tensors
from bench.errors import DataError
from tests.conftest import load_script
from tests.test_idx import write_dataset

FASHION = Path("/usr/share/datasets/fashion-mnist")
SUBSET = ASSETS / "mnist-subset"
# ../shared/data/mnist/README.md
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No network, an empty cache and home, no MNISTBENCH_DATA."""
    monkeypatch.setenv("MNISTBENCH_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MNISTBENCH_DATA", raising=False)


@pytest.fixture(scope="module")
def real(full_mnist_dir) -> data.Dataset:
    """The full MNIST (tests/conftest.py finds it; the test skips without it)."""
    return load(data_dir=full_mnist_dir)


def link_set(src: Path, dst: Path) -> Path:
    """A directory of symlinks to src's files (cheap copies of the real set)."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).symlink_to(f)
    return dst


def test_real_mnist_verifies(real, full_mnist_dir):
    assert real.verified and not real.subset and real.source == "data-dir"
    assert real.files == MNIST.sha256 and real.notes == []
    assert real.train_images.shape == (60000, 28, 28) and real.train_images.dtype == torch.uint8
    assert real.test_labels.shape == (10000,) and real.test_labels.dtype == torch.int64
    assert torch.bincount(real.train_labels).tolist() == TRAIN_COUNTS
    assert torch.bincount(real.test_labels).tolist() == TEST_COUNTS
    lines = data_command(str(full_mnist_dir), verify=True, dataset="mnist")
    assert any(line.startswith("verified: ") and "standard MNIST" in line for line in lines)


def test_modified_byte_fails_verify_only(tmp_path, full_mnist_dir):
    d = link_set(full_mnist_dir, tmp_path / "m")
    stored = find_files(d, "test copy")["t10k-labels-idx1-ubyte"]  # gz or raw, any spelling
    labels = read_bytes(stored)
    stored.unlink()
    (d / "t10k-labels-idx1-ubyte").write_bytes(labels[:-1] + bytes([(labels[-1] + 1) % 10]))
    with pytest.raises(DataError, match="mismatch: t10k-labels-idx1-ubyte differ"):
        data_command(str(d), verify=True, dataset="mnist")
    lines = data_command(str(d), verify=False, dataset="mnist")  # usable, but said to differ
    assert "NOT verified: t10k-labels-idx1-ubyte differ from the standard MNIST files" in lines
    assert any(line.startswith("note: checksums differ") for line in lines)


def test_subset_regenerates_from_real_mnist(real):
    make_subset = load_script("make_subset")
    got = {n: hashlib.sha256(c).hexdigest() for n, c in make_subset.build(real).items()}
    assert got == SUBSET_SHA256


def test_bundled_subset_is_loud_balanced_and_verified():
    ds = load()
    assert (ds.source, ds.verified, ds.subset) == ("bundled", True, True)
    assert torch.bincount(ds.train_labels).tolist() == [200] * 10
    assert torch.bincount(ds.test_labels).tolist() == [100] * 10
    assert ds.notes[0].startswith("SUBSET: only 2000 train / 1000 test")
    assert sum(n.startswith("offline:") for n in ds.notes) == 1
    block = ds.as_dict()
    assert block["subset"] is True and block["train_used"] == block["train_count"] == 2000
    assert set(block) == {"name", "source", "location", "train_count", "test_count",
                          "train_used", "test_used", "verified", "subset", "files", "notes"}
    assert sum(p.stat().st_size for p in SUBSET.iterdir() if p.suffix == ".gz") < 600_000


def test_resolution_order(tmp_path, monkeypatch):
    cache = link_set(SUBSET, tmp_path / "cache" / "mnistbench" / "mnist")
    assert load().source == "cache" and load().location == str(cache)
    env = link_set(SUBSET, tmp_path / "env")
    monkeypatch.setenv("MNISTBENCH_DATA", str(env))
    assert load().source == "env"
    explicit = link_set(SUBSET, tmp_path / "explicit")
    ds = load(data_dir=explicit)
    assert ds.source == "data-dir" and ds.location == str(explicit) and ds.subset


def test_home_cache_used_without_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    link_set(SUBSET, tmp_path / "home" / ".cache" / "mnistbench" / "mnist")
    assert load().source == "cache"


def test_explicit_sources_never_fall_through(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="data dir .*nope does not exist"):
        load(data_dir=tmp_path / "nope")
    monkeypatch.setenv("MNISTBENCH_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataError, match="MNISTBENCH_DATA .*gone does not exist"):
        load()


def test_broken_cache_is_skipped_with_a_note(tmp_path):
    write_dataset(tmp_path / "cache" / "mnistbench" / "mnist", t10k_labels_idx1_ubyte=b"bad")
    ds = load(allow_download=False)
    assert ds.source == "bundled"
    assert any(n.startswith("cache skipped:") and "too short" in n for n in ds.notes)
    assert "download skipped (not allowed by the caller)" in ds.notes


def test_empty_cache_dir_is_silent_and_unreadable_one_is_a_note(tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "mnistbench" / "mnist"
    cache.mkdir(parents=True)
    assert load().notes[1:] == ["offline: download skipped (MNISTBENCH_OFFLINE is set)"]

    real_iterdir = Path.iterdir

    def refuse(self):
        if self == cache:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", refuse)
    ds = load()
    assert ds.source == "bundled"
    assert any(n.startswith("cache skipped:") and "permission denied" in n for n in ds.notes)


def test_unverified_cache_is_skipped(tmp_path):
    write_dataset(tmp_path / "cache" / "mnistbench" / "mnist")  # valid IDX, unknown checksums
    ds = load()
    assert ds.source == "bundled" and any("checksums differ" in n for n in ds.notes)


def test_synthetic_data_dir_loads_unverified(tmp_path):
    write_dataset(tmp_path / "d", n_train=30, n_test=20, gz=False)
    ds = load(data_dir=tmp_path / "d")
    assert not ds.verified and not ds.subset and len(ds.train_labels) == 30
    with pytest.raises(DataError, match="mismatch: .* differ from the standard MNIST"):
        data_command(str(tmp_path / "d"), verify=True, dataset="mnist")


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(DataError, match="unknown dataset 'cifar': choose one of mnist, fashion"):
        load("cifar")


def serve(monkeypatch, mirrors: dict[str, dict[str, bytes] | Exception]) -> None:
    """Replace the network: mirror URL -> {file name: bytes} or the error it raises."""
    files = {p.name: p.read_bytes() for p in SUBSET.iterdir() if p.suffix == ".gz"}
    resources = [(name, hashlib.md5(b).hexdigest()) for name, b in files.items()]
    monkeypatch.setattr(data, "_remote", lambda spec: (list(mirrors), resources))

    class Response:
        def __init__(self, payload: bytes):
            self.payload = payload

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self) -> bytes:
            return self.payload

    def urlopen(url: str, timeout: float):
        assert timeout <= 5
        mirror, name = url.rsplit("/", 1)
        served = mirrors[mirror + "/"]
        if isinstance(served, Exception):
            raise served
        return Response(served.get(name, files[name]))

    monkeypatch.setattr(data.urllib.request, "urlopen", urlopen)
    monkeypatch.delenv("MNISTBENCH_OFFLINE")


def test_download_into_cache_atomically(tmp_path, monkeypatch):
    serve(monkeypatch, {"http://down.example/": urllib.error.URLError("no route"),
                        "http://up.example/": {}})
    ds = load()
    cache = tmp_path / "cache" / "mnistbench" / "mnist"
    assert ds.source == "download" and ds.location == str(cache) and ds.verified
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        f"{stem}.gz" for stem in STANDARD_NAMES.values())  # no partial files left


def test_offline_is_one_note_then_bundled(monkeypatch):
    serve(monkeypatch, {"http://a.example/": urllib.error.URLError("Name resolution failed"),
                        "http://b.example/": TimeoutError("timed out")})
    ds = load()
    offline = [n for n in ds.notes if n.startswith("offline")]
    assert ds.source == "bundled" and len(offline) == 1
    assert "a.example" in offline[0] and "b.example" in offline[0]


def test_md5_mismatch_is_rejected(monkeypatch):
    serve(monkeypatch, {"http://bad.example/": {"t10k-labels-idx1-ubyte.gz": b"evil"}})
    ds = load()
    assert ds.source == "bundled" and any("md5 mismatch" in n for n in ds.notes)


def test_fashion_without_any_source_is_an_error(tmp_path, monkeypatch):
    spec = dataclasses.replace(DATASETS["fashion-mnist"], system_dirs=(str(tmp_path / "no"),))
    monkeypatch.setitem(DATASETS, "fashion-mnist", spec)
    with pytest.raises(DataError, match="no Fashion-MNIST data found .*offline"):
        load("fashion-mnist")


def test_fashion_mnist_from_debian():
    if not FASHION.is_dir():
        pytest.skip(f"{FASHION} absent (apt-get install dataset-fashion-mnist)")
    ds = load("fashion-mnist")
    assert (ds.source, ds.verified, ds.subset) == ("system", True, False)
    x = ds.train_images.double() / 255
    spec = DATASETS["fashion-mnist"]
    assert abs(x.mean().item() - spec.mean) < 1e-4 and abs(x.std().item() - spec.std) < 1e-4
    with pytest.raises(DataError, match="holds the standard Fashion-MNIST files, not MNIST"):
        load("mnist", data_dir=FASHION)


def test_to_tensors_normalises_real_mnist(real):
    t = to_tensors(real, "cpu")
    assert t.x_train.shape == (60000, 1, 28, 28) and t.x_train.dtype == torch.float32
    assert t.y_train.dtype == torch.int64 and t.x_test.shape == (10000, 1, 28, 28)
    assert abs(t.x_train.mean().item()) < 1e-3 and abs(t.x_train.std().item() - 1) < 1e-3
    assert real.train_images.dtype == torch.uint8  # the dataset itself is untouched


def test_train_limit_is_balanced_and_capped():
    ds = load()
    t = to_tensors(ds, torch.device("cpu"), train_limit=1000)
    assert torch.bincount(t.y_train).tolist() == [100] * 10 and len(t.y_test) == 1000
    assert len(to_tensors(ds, "cpu", train_limit=10**6).y_train) == 2000
    with pytest.raises(DataError, match="train_limit"):
        to_tensors(ds, "cpu", train_limit=0)


def test_select_balanced_on_unbalanced_labels():
    labels = torch.tensor([0, 0, 0, 0, 1, 2, 2, 1, 0, 2])
    assert select_balanced(labels, 3).tolist() == [0, 4, 5]
    # order: 1st of each class (0, 4, 5), 2nd (1, 7, 6), 3rd (2, 9), then class 0's 4th, 5th
    assert select_balanced(labels, 8).tolist() == [0, 1, 2, 4, 5, 6, 7, 9]
    assert sorted(select_balanced(labels, 10).tolist()) == list(range(10))


def test_data_command_lines_for_the_bundled_subset():
    lines = data_command(None, verify=True, dataset="mnist")
    assert lines[0] == "dataset: mnist (MNIST - SUBSET, not the full set)"
    assert lines[1].startswith("source: bundled")
    assert "train images per class: " + " ".join(["200"] * 10) in lines
    assert any(line.startswith("note: SUBSET") for line in lines)


def test_swapped_files_are_named(tmp_path):
    d = tmp_path / "swap"
    d.mkdir()
    for split, other in (("train", "test"), ("test", "train")):
        for kind in ("images", "labels"):
            shutil.copy(SUBSET / f"{STANDARD_NAMES[other, kind]}.gz",
                        d / f"{STANDARD_NAMES[split, kind]}.gz")
    assert not load(data_dir=d).verified  # structurally fine, but not the set it claims
    with pytest.raises(DataError, match="which is t10k-images-idx3-ubyte of the bundled"):
        data_command(str(d), verify=True, dataset="mnist")
