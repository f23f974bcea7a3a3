"""The resident tensors the trainer uses: normalised once, on the device, class-balanced cuts."""

from __future__ import annotations

from typing import NamedTuple

import torch

from bench.data.idx import NUM_CLASSES
from bench.data.sources import Dataset
from bench.data.specs import DatasetSpec, get_spec
from bench.errors import DataError


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
    spec, device = get_spec(ds.name), torch.device(device)
    x_train, y_train = ds.train_images, ds.train_labels
    if train_limit is not None:
        if train_limit < 1:
            raise DataError(f"train_limit must be a positive number of images, got {train_limit}")
        keep = select_balanced(y_train, train_limit)
        x_train, y_train = x_train[keep], y_train[keep]
    return Tensors(_normalise(x_train, spec, device), y_train.to(device),
                   _normalise(ds.test_images, spec, device), ds.test_labels.to(device))
