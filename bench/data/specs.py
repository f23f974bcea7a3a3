"""The datasets mnistbench knows: where each comes from and the checksums that identify it.

Every table here is data: the standard files' sha256 (uncompressed content), the gz md5s and
mirrors for a download, the system folders a distribution installs them in, and the bundled
subset's own checksums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from bench.errors import DataError


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
    bundled: str | None = None  # folder under bench/data/assets


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


def get_spec(name: str) -> DatasetSpec:
    """The dataset called `name`, or a DataError naming the known ones."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def match(files: dict[str, str]) -> KnownSet | None:
    """The known set whose four checksums are exactly `files`, if any."""
    return next((k for k in KNOWN_SETS if k.sha256 == files), None)


def differing(files: dict[str, str], table: dict[str, str]) -> list[str]:
    """The file stems whose checksum differs from `table`'s."""
    return [stem for stem, digest in files.items() if table.get(stem) != digest]
