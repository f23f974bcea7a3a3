"""`mnistbench data`: what data there is, where it came from, and whether it is the standard set."""

from __future__ import annotations

import torch

from bench.data.idx import NUM_CLASSES
from bench.data.sources import Dataset, load
from bench.data.specs import KNOWN_SETS, SUBSET_SHA256, differing, get_spec
from bench.errors import DataError


def _class_counts(labels: torch.Tensor) -> str:
    return " ".join(str(c) for c in torch.bincount(labels, minlength=NUM_CLASSES).tolist())


def _reference(ds: Dataset) -> tuple[str, dict[str, str], list[str]]:
    """(title, checksum table, differing files) of the set `ds` should be."""
    if ds.source == "bundled":
        title, table = "the bundled MNIST subset", SUBSET_SHA256
    else:
        title, table = f"the standard {get_spec(ds.name).title} files", get_spec(ds.name).sha256
    return title, table, differing(ds.files, table)


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
    kind = get_spec(ds.name).title + (" - SUBSET, not the full set" if ds.subset else "")
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
