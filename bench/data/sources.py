"""Where the data comes from: `load` resolves, reads and validates a dataset.

Resolution order of `load` (first that exists wins):
  1. `data_dir` argument (source "data-dir") or $MNISTBENCH_DATA ("env") - asked for explicitly,
     so a missing or broken directory is a DataError, never a fall-through;
  2. system directories (Fashion-MNIST: Debian's dataset-fashion-mnist) ("system");
  3. the user cache $XDG_CACHE_HOME/mnistbench/<name>, default ~/.cache ("cache");
  4. a download from torchvision's mirrors, md5-checked, into the cache ("download"); skipped
     when MNISTBENCH_OFFLINE is set or `allow_download` is False;
  5. the real-MNIST subset bundled in bench/data/assets ("bundled"; `subset` is true and a note
     says so).
Sources 2-4 are used only when their checksums match the known ones; otherwise a note says why
they were skipped. `mnistbench data` shows the result (`data_command`)."""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch

from bench.data.idx import read_dir
from bench.data.specs import DatasetSpec, differing, get_spec, match
from bench.errors import DataError
from bench.store.atomic import write_bytes_atomic

TIMEOUT_S = 5.0  # per request: an offline machine must not hang the quick-start
ASSETS = Path(__file__).resolve().parent / "assets"
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
            "train_used": len(self.train_labels),
            "test_used": len(self.test_labels), "verified": self.verified,
            "subset": self.subset, "files": dict(self.files), "notes": list(self.notes),
        }


def _from_dir(spec: DatasetSpec, directory: Path, source: str, label: str) -> Dataset:
    """Read and validate a directory; raises DataError when anything is wrong with it."""
    splits, files = read_dir(directory, label)
    known = match(files)
    if known is not None and known.dataset != spec.name:
        raise DataError(f"{label} {directory} holds {known.label}, not {spec.title}; pass "
                        f"--dataset {known.dataset}, or point it at the {spec.title} files")
    notes = [] if known else [f"checksums differ from the standard {spec.title} files "
                              f"({', '.join(differing(files, spec.sha256))}): results are not "
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
                     f"{spec.title} files ({', '.join(differing(ds.files, spec.sha256))})")
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
                write_bytes_atomic(target, data)
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
    spec = get_spec(name)
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
