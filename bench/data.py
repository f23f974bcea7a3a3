"""MNIST (and Fashion-MNIST) for the benchmarks: where the data comes from, whether it is the
standard set, and the resident tensors the trainer uses.

Resolution order of `load` (first that exists wins):
  1. `data_dir` argument (source "data-dir") or $MNISTBENCH_DATA ("env") - asked for explicitly,
     so a missing or broken directory is a DataError, never a fall-through;
  2. system directories (Fashion-MNIST: Debian's dataset-fashion-mnist) ("system");
  3. the user cache $XDG_CACHE_HOME/mnistbench/<name>, default ~/.cache ("cache");
  4. a download from torchvision's mirrors, md5-checked, into the cache ("download"); skipped
     when MNISTBENCH_OFFLINE is set or `allow_download` is False;
  5. the real-MNIST subset bundled in bench/assets ("bundled"; `subset` is true and a note says so).
Sources 2-4 are used only when their checksums match the known ones; otherwise a note says why
they were skipped. `mnistbench data` shows the result (`data_command`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import torch

from bench.errors import DataError
from bench.idx import NUM_CLASSES, read_dir

TIMEOUT_S = 5.0  # per request: an offline machine must not hang the quick-start
ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    mean: float  # of the train pixels scaled to [0, 1] (computed over the full train set)
    std: float
    sha256: dict[str, str]  # the standard four files, uncompressed content
    torchvision_class: str  # whose .mirrors / .resources give the download URLs and gz md5s
    mirrors: tuple[str, ...]  # used when torchvision lacks those attributes
    md5: dict[str, str]
    system_dirs: tuple[str, ...] = ()
    bundled: str | None = None  # folder under bench/assets


MNIST = DatasetSpec(
    name="mnist", title="MNIST", mean=0.1307, std=0.3081,
    sha256={  # ../shared/data/mnist/README.md (same content as yann.lecun.com's originals)
        "train-images-idx3-ubyte":
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    torchvision_class="MNIST",
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    md5={"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
         "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
         "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
         "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
    bundled="mnist-subset",
)
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist", title="Fashion-MNIST", mean=0.2860, std=0.3530,
    sha256={  # computed from Debian's dataset-fashion-mnist (zalandoresearch's release)
        "train-images-idx3-ubyte":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    torchvision_class="FashionMNIST",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    md5={"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
         "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
         "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
         "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)
DATASETS = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}

# The bundled subset (scripts/make_subset.py prints this table; uncompressed content).
SUBSET_SHA256 = {
    "train-images-idx3-ubyte":
        "5742f398058fe36aaf1b8edb1051aa6ed96831e24fd15bf6ac80362ceb9942bc",
    "train-labels-idx1-ubyte":
        "5845824a1405e379f337fe3db6e4fa8614766ce3767bbb4825466b35c5ac044b",
    "t10k-images-idx3-ubyte":
        "b97c8bfeb834d8e7999eaa2d69239abe06653dc09c1e5d7eb0c974c5965bc6a9",
    "t10k-labels-idx1-ubyte":
        "41cf2f530031915ba9fbb241407c369dba1acd7515053edff48cebeee8b260f4",
}


class KnownSet(NamedTuple):
    dataset: str
    label: str
    subset: bool
    sha256: dict[str, str]


KNOWN_SETS = (
    KnownSet("mnist", "the standard MNIST files", False, MNIST.sha256),
    KnownSet("fashion-mnist", "the standard Fashion-MNIST files", False, FASHION_MNIST.sha256),
    KnownSet("mnist", "the bundled MNIST subset (not the full set)", True, SUBSET_SHA256),
)


@dataclass(frozen=True, eq=False)
class Dataset:
    """One resolved dataset; tensors live on the CPU until `to_tensors`."""

    name: str
    source: str  # data-dir | env | system | cache | download | bundled
    location: str
    train_images: torch.Tensor  # (N, 28, 28) uint8
    train_labels: torch.Tensor  # (N,) int64
    test_images: torch.Tensor  # (M, 28, 28) uint8
    test_labels: torch.Tensor  # (M,) int64
    verified: bool  # all four checksums match a known set (`known`) of this dataset
    files: dict[str, str]  # standard file name -> sha256 of the uncompressed content
    notes: list[str] = field(default_factory=list)
    subset: bool = False  # True for the bundled subset: never to be passed off as the full set
    known: str | None = None  # which known set the checksums match, e.g. "the standard MNIST files"

    def as_dict(self) -> dict:
        """The `dataset` block of results.json (no tensors)."""
        return {
            "name": self.name, "source": self.source, "location": self.location,
            "train_count": len(self.train_labels), "test_count": len(self.test_labels),
            "train_used": len(self.train_labels), "verified": self.verified,
            "subset": self.subset, "files": dict(self.files), "notes": list(self.notes),
        }


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def _match(files: dict[str, str]) -> KnownSet | None:
    return next((k for k in KNOWN_SETS if k.sha256 == files), None)


def _from_dir(spec: DatasetSpec, directory: Path, source: str, label: str) -> Dataset:
    """Read and validate a directory; raises DataError when anything is wrong with it."""
    splits, files = read_dir(directory, label)
    known = _match(files)
    if known is not None and known.dataset != spec.name:
        raise DataError(f"{label} {directory} holds {known.label}, not {spec.title}; pass "
                        f"--dataset {known.dataset}, or point it at the {spec.title} files")
    notes = [] if known else [f"checksums differ from the standard {spec.title} files "
                              f"({', '.join(_differing(files, spec.sha256))}): results are not "
                              f"comparable with standard {spec.title} runs"]
    if known and known.subset:
        notes.append(_subset_note(spec, len(splits["train"].labels), len(splits["test"].labels)))
    tensors = {f"{s}_{k}": torch.from_numpy(getattr(splits[s], k)) for s in splits
               for k in ("images", "labels")}
    for s in splits:
        tensors[f"{s}_labels"] = tensors[f"{s}_labels"].long()
    return Dataset(name=spec.name, source=source, location=str(directory.resolve()), **tensors,
                   verified=known is not None, files=files, notes=notes,
                   subset=bool(known and known.subset), known=known.label if known else None)


def _differing(files: dict[str, str], table: dict[str, str]) -> list[str]:
    return [stem for stem, digest in files.items() if table.get(stem) != digest]


def _absent(directory: Path) -> bool:
    try:
        return not any(directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False  # there but unreadable: _from_dir turns that into a note


def _try_dir(spec: DatasetSpec, directory: Path, source: str, notes: list[str]) -> Dataset | None:
    """A fall-through source: usable only when it verifies; otherwise a note and None."""
    if _absent(directory):
        return None  # nothing there is not worth a note
    try:
        ds = _from_dir(spec, directory, source, source)
    except DataError as err:
        notes.append(f"{source} skipped: {err}")
        return None
    if not ds.verified:
        notes.append(f"{source} {directory} skipped: its checksums differ from the standard "
                     f"{spec.title} files ({', '.join(_differing(ds.files, spec.sha256))})")
        return None
    return dataclasses.replace(ds, notes=notes + ds.notes)


def cache_dir(name: str = "mnist") -> Path:
    """$XDG_CACHE_HOME/mnistbench/<name>, or ~/.cache/mnistbench/<name>."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "mnistbench" / name


def _offline() -> bool:
    return os.environ.get("MNISTBENCH_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _remote(spec: DatasetSpec) -> tuple[list[str], list[tuple[str, str]]]:
    """(mirror URLs, [(gz file name, md5)]) from torchvision when it has them, else our copy."""
    try:
        from torchvision import datasets

        cls = getattr(datasets, spec.torchvision_class)
        return list(cls.mirrors), [(str(f), str(m)) for f, m in cls.resources]
    except Exception:  # a torchvision built for another torch raises RuntimeError on import
        return list(spec.mirrors), list(spec.md5.items())


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _fetch(mirrors: list[str], filename: str, md5: str) -> bytes:
    """The file from the first mirror that serves it with the right md5; OSError otherwise."""
    errors = []
    for mirror in mirrors:
        url = filename if "://" in filename else mirror + filename
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
                data = response.read()
        except (OSError, ValueError, http.client.HTTPException) as err:
            errors.append(f"{urlparse(url).hostname}: {getattr(err, 'reason', err)}")
            continue
        if _md5(data) == md5:
            return data
        errors.append(f"{url}: md5 mismatch")
    raise OSError("; ".join(errors) or "no mirrors known")


def _write_atomic(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # readers never see a half-written file


def _download(spec: DatasetSpec, cache: Path, notes: list[str]) -> bool:
    if _offline():
        notes.append("offline: download skipped (MNISTBENCH_OFFLINE is set)")
        return False
    mirrors, resources = _remote(spec)
    try:
        for filename, md5 in resources:
            target = cache / Path(urlparse(filename).path).name
            if not (target.is_file() and _md5(target.read_bytes()) == md5):
                data = _fetch(mirrors, filename, md5)
                cache.mkdir(parents=True, exist_ok=True)  # only once something arrived
                _write_atomic(target, data)
    except OSError as err:
        notes.append(f"offline or mirrors unreachable: could not download {spec.title} ({err}); "
                     f"download skipped")
        return False
    notes.append(f"downloaded {spec.title} into {cache}")
    return True


def _bundled(spec: DatasetSpec, notes: list[str]) -> Dataset:
    if spec.bundled is None:
        tried = "; ".join(notes) or "nothing found"
        raise DataError(f"no {spec.title} data found ({tried}); pass --data-dir DIR, set "
                        f"MNISTBENCH_DATA, or install Debian's dataset-{spec.name}")
    ds = _from_dir(spec, ASSETS / spec.bundled, "bundled", "bundled subset")
    own = ds.notes if ds.subset else [
        _subset_note(spec, len(ds.train_labels), len(ds.test_labels)), *ds.notes]
    return dataclasses.replace(ds, subset=True, notes=[*own, *notes])


def _subset_note(spec: DatasetSpec, n_train: int, n_test: int) -> str:
    return (f"SUBSET: only {n_train} train / {n_test} test images of real {spec.title} (the "
            f"bundled quick-start subset), not the full set; accuracy and timings are not "
            f"comparable with full-{spec.title} runs - pass --data-dir DIR or set "
            f"MNISTBENCH_DATA to use the full set")


def load(name: str = "mnist", data_dir: str | os.PathLike | None = None,
         allow_download: bool = True) -> Dataset:
    """Resolve, read and validate a dataset (see the module docstring for the order)."""
    spec = _spec(name)
    if data_dir is not None:
        return _from_dir(spec, Path(data_dir).expanduser(), "data-dir", "data dir")
    env = os.environ.get("MNISTBENCH_DATA")
    if env:
        return _from_dir(spec, Path(env).expanduser(), "env", "MNISTBENCH_DATA")
    notes: list[str] = []
    cache = cache_dir(spec.name)
    places = [(Path(d), "system") for d in spec.system_dirs] + [(cache, "cache")]
    for directory, source in places:
        if (ds := _try_dir(spec, directory, source, notes)) is not None:
            return ds
    if not allow_download:
        notes.append("download skipped (not allowed by the caller)")
    elif _download(spec, cache, notes):
        if (ds := _try_dir(spec, cache, "download", notes)) is not None:
            return ds
    return _bundled(spec, notes)


class Tensors(NamedTuple):
    x_train: torch.Tensor  # (N, 1, 28, 28) float32, normalised
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor  # (M, 1, 28, 28) float32, normalised
    y_test: torch.Tensor  # (M,) int64


def balanced_order(labels: torch.Tensor) -> torch.Tensor:
    """A permutation that takes the 1st sample of every class (in file order), then the 2nd of
    every class, and so on; its first k entries are as class-balanced as the data allows."""
    n = labels.numel()
    by_class = torch.argsort(labels, stable=True)  # (N,) grouped by class, file order inside
    counts = torch.bincount(labels, minlength=NUM_CLASSES)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(by_class)
    rank[by_class] = torch.arange(n) - starts[labels[by_class]]  # position within its class
    return torch.argsort(rank * n + torch.arange(n))


def select_balanced(labels: torch.Tensor, count: int) -> torch.Tensor:
    """Indices (in file order) of a fixed, deterministic, class-balanced subset of `count`."""
    return torch.sort(balanced_order(labels)[:count]).values


def _normalise(images: torch.Tensor, spec: DatasetSpec, device: torch.device) -> torch.Tensor:
    x = images.to(device).unsqueeze(1).float().div_(255)  # (N, 1, 28, 28) in [0, 1]
    return x.sub_(spec.mean).div_(spec.std)


def to_tensors(ds: Dataset, device: torch.device | str, train_limit: int | None = None) -> Tensors:
    """The whole dataset resident on `device`, normalised once with the dataset's mean/std.

    `train_limit` keeps `select_balanced(labels, train_limit)` of the training set (capped at its
    size, so read the count used from `x_train`); the test set is always whole.
    """
    spec, device = _spec(ds.name), torch.device(device)
    x_train, y_train = ds.train_images, ds.train_labels
    if train_limit is not None:
        if train_limit < 1:
            raise DataError(f"train_limit must be a positive number of images, got {train_limit}")
        keep = select_balanced(y_train, train_limit)
        x_train, y_train = x_train[keep], y_train[keep]
    return Tensors(_normalise(x_train, spec, device), y_train.to(device),
                   _normalise(ds.test_images, spec, device), ds.test_labels.to(device))


def batches(n: int, batch_size: int, generator: torch.Generator,
            drop_last: bool = False) -> Iterator[torch.Tensor]:
    """Index tensors for one epoch: a permutation of range(n) from `generator` (on its device),
    cut into batches of `batch_size` (the last one shorter unless `drop_last`)."""
    order = torch.randperm(n, generator=generator, device=generator.device)  # (n,)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def _class_counts(labels: torch.Tensor) -> str:
    return " ".join(str(c) for c in torch.bincount(labels, minlength=NUM_CLASSES).tolist())


def _reference(ds: Dataset) -> tuple[str, dict[str, str], list[str]]:
    """(title, checksum table, differing files) of the set `ds` should be."""
    if ds.source == "bundled":
        title, table = "the bundled MNIST subset", SUBSET_SHA256
    else:
        title, table = f"the standard {_spec(ds.name).title} files", _spec(ds.name).sha256
    return title, table, _differing(ds.files, table)


def _identify(digest: str) -> str:
    """", which is <file> of <known set>" when a file is a known one under the wrong name."""
    for known in KNOWN_SETS:
        for stem, expected in known.sha256.items():
            if expected == digest:
                return f", which is {stem} of {known.label}"
    return ""


def _mismatch(ds: Dataset) -> str:
    title, table, bad = _reference(ds)
    got = ds.files[bad[0]]
    return (f"{ds.location}: checksum mismatch: {', '.join(bad)} differ from {title} (e.g. "
            f"{bad[0]}: sha256 {got[:16]}...{_identify(got)}, expected {table[bad[0]][:16]}...); "
            f"the data was modified or is another set - replace it with fresh copies, or drop "
            f"--verify to use it anyway")


def data_command(data_dir: str | None, verify: bool, dataset: str = "mnist") -> list[str]:
    """The lines `mnistbench data` prints; DataError when the data is unusable or, with
    `verify`, when its checksums match no known set."""
    ds = load(dataset, data_dir=data_dir, allow_download=True)
    if verify and not ds.verified:
        raise DataError(_mismatch(ds))
    title, _, bad = _reference(ds)
    verdict = (f"verified: the checksums match {ds.known}" if ds.verified
               else f"NOT verified: {', '.join(bad)} differ from {title}")
    kind = _spec(ds.name).title + (" - SUBSET, not the full set" if ds.subset else "")
    return [
        f"dataset: {ds.name} ({kind})",
        f"source: {ds.source} - {ds.location}",
        f"train: {len(ds.train_labels)} images, test: {len(ds.test_labels)} images "
        f"(28x28 uint8, labels 0-9)",
        f"train images per class: {_class_counts(ds.train_labels)}",
        f"test images per class: {_class_counts(ds.test_labels)}",
        *(f"  {stem}  sha256 {digest}" for stem, digest in ds.files.items()),
        verdict,
        *(f"note: {note}" for note in ds.notes),
    ]
