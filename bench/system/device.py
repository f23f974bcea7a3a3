"""The one place that decides the device, seeds the generators, sets threads and synchronises."""

from __future__ import annotations

import logging
import random

import torch

from bench.errors import UsageError
from bench.system import DEVICE_CHOICES


def resolve_device(name: str) -> torch.device:
    """Turn a CLI device name into a torch.device, refusing `cuda` where there is none."""
    if name not in DEVICE_CHOICES:
        raise UsageError(f"unknown device {name!r}: choose one of {', '.join(DEVICE_CHOICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA GPU is visible to torch on this machine; "
                         "use --device cpu (or auto)")
    return torch.device(name)


def synchronize(device: torch.device | str) -> None:
    """Wait for queued GPU work; a no-op on CPU. Call it inside every timed region on CUDA."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def set_seed(seed: int) -> None:
    """Seed Python, torch (CPU and every GPU) from one number."""
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds all CUDA devices


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op thread count (when given) and return the count in effect."""
    if threads is not None:
        if threads < 1:
            raise UsageError(f"--threads must be a positive integer, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def quiet_cuda_home_notice() -> None:
    """Silence torch's "No CUDA runtime is found, using CUDA_HOME=..." line on a machine without
    a GPU: a CUDA build of torch logs it once per process when torch.compile first imports its
    C++ extension helpers, it says nothing about the run, and a CPU user cannot act on it. Only
    that module's logger is raised to ERROR, and only where no GPU is visible."""
    if not torch.cuda.is_available():
        logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
