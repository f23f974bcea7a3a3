"""The launch settings of a scaling run, and every bad input refused before a rank starts.

A rank is one device: a CUDA GPU, or on the CPU its own `threads` cores (one rank's threads
must not share cores with another's, or the scaling figures measure contention). So a world
larger than the devices is refused: more ranks per node than GPUs, or ranks x threads beyond
the usable cores. NCCL needs CUDA; gloo serves the CPU (and CUDA too, when asked).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from bench.errors import UsageError

BACKEND_CHOICES = ("gloo", "nccl")


@dataclass(frozen=True)
class Launch:
    """Where the ranks run and how they meet."""

    device: str  # cpu | cuda: every rank's device type
    backend: str  # gloo | nccl
    nproc_per_node: int
    nnodes: int
    threads: int  # torch intra-op threads per rank
    rdzv_endpoint: str  # HOST:PORT of the c10d rendezvous ("127.0.0.1:0" alone: a free port)
    rdzv_timeout_s: int

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def backend_for(device: str, asked: str | None) -> str:
    """gloo on CPU, NCCL on CUDA unless asked otherwise; NCCL on CPU is refused."""
    backend = asked or ("nccl" if device == "cuda" else "gloo")
    if backend not in BACKEND_CHOICES:
        raise UsageError(f"unknown backend {backend!r}: choose one of {', '.join(BACKEND_CHOICES)}")
    if backend == "nccl" and device != "cuda":
        raise UsageError("--backend nccl needs CUDA GPUs, but this run is on the CPU; use "
                         "--backend gloo (the CPU's default) or --device cuda")
    available = dist.is_nccl_available() if backend == "nccl" else dist.is_gloo_available()
    if not dist.is_available() or not available:
        raise UsageError(f"this torch build has no {backend} backend for torch.distributed; "
                         "install a build that has it, or choose the other --backend")
    return backend


def threads_per_rank(asked: int | None, ranks_here: int) -> int:
    """--threads, or this node's usable cores shared evenly among its ranks (at least 1)."""
    return asked if asked is not None else max(1, usable_cores() // ranks_here)


def check_devices(device: str, ranks_here: int, threads: int, flag: str) -> None:
    """Refuse more ranks on this node than it has devices (GPUs, or cores for their threads)."""
    if device == "cuda":
        gpus = torch.cuda.device_count()
        if ranks_here > gpus:
            raise UsageError(f"{flag} {ranks_here}: a world larger than the devices — this "
                             f"node has {gpus} CUDA GPU{'s' if gpus != 1 else ''}, one per "
                             f"rank; use {flag} {gpus} or fewer")
        return
    cores = usable_cores()
    if ranks_here * threads > cores:
        raise UsageError(f"{flag} {ranks_here} with {threads} thread{'s' if threads != 1 else ''}"
                         f" per rank needs {ranks_here * threads} CPU cores, but this node has "
                         f"{cores} usable: a world larger than the devices; use "
                         f"{flag} {max(1, cores // threads)} or fewer (or fewer --threads)")


def check_endpoint(endpoint: str | None, nnodes: int) -> str:
    """HOST:PORT, required for several nodes; alone, a free local port."""
    if endpoint is None:
        if nnodes > 1:
            raise UsageError(f"--nnodes {nnodes} needs --rdzv-endpoint HOST:PORT, the same on "
                             "every node (a host all of them reach, and a free port on it)")
        return "127.0.0.1:0"
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--rdzv-endpoint {endpoint!r} is not HOST:PORT (a port 1-65535), "
                         "e.g. --rdzv-endpoint node0.example.org:29400")
    return endpoint
