"""The reference workloads: the calibration GEMM of every repetition, and the control of every pass.

Calibration: a float32 GEMM large enough for the peak, timed at the start of each repetition.
Its GFLOP/s is the machine's calibrated peak for this run (each case's GFLOP/s is shown as a
fraction of it), and its ratio between two runs says whether the machine itself ran faster or
slower — apart from the code (issue #11).

Control: a short burst of a small GEMM, timed just before every pass of every case. The shared
2-core machine has slow phases of seconds; measured there, a small GEMM timed next to a case
moves with it (correlation 0.55-0.76 over 5-round bursts of RNN and CNN cases), so the case's
time relative to its control is what a verdict can lean on when the machine moved.
"""

from __future__ import annotations

import statistics
import time

import torch

from bench.store import schema
from bench.system.device import synchronize

# n x n @ n x n: 2 n^3 FLOPs. 1024 keeps a 2-core CPU busy ~10 ms a call, past cache sizes;
# 8192 keeps a datacenter GPU busy ~20 ms in float32 (TF32 off, as torch's default).
GEMM_N = {"cpu": 1024, "cuda": 8192}
CALLS = 12
# the control: n x n @ n x n, `calls` times; about 3 ms on the 2-core CPU
CONTROL = {"cpu": (256, 10), "cuda": (1024, 10)}


def gemm_gflops(device: torch.device, n: int, calls: int = CALLS) -> float:
    """Median GFLOP/s of `calls` timed products after three warm-up calls."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    out = torch.empty(n, n, device=device)
    for _ in range(3):
        torch.mm(a, b, out=out)
    synchronize(device)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        synchronize(device)
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def measure(device: torch.device, repetition: int) -> schema.CalibrationPoint:
    """This repetition's calibration: on the run's device, and on the host CPU for a GPU run."""
    on_device = gemm_gflops(device, GEMM_N[device.type])
    host = None if device.type == "cpu" else gemm_gflops(torch.device("cpu"), GEMM_N["cpu"])
    return schema.CalibrationPoint(repetition, on_device, host)


def combine(device: torch.device, points: list[schema.CalibrationPoint]) -> schema.Calibration:
    """The run's calibration block: medians over repetitions, and every repetition's values."""
    points = sorted(points, key=lambda p: p.repetition)
    hosts = [p.host_gemm_gflops for p in points if p.host_gemm_gflops is not None]
    return schema.Calibration(device.type, GEMM_N[device.type],
                              statistics.median(p.gemm_gflops for p in points),
                              statistics.median(hosts) if hosts else None, points)


class Control:
    """The per-pass control workload on `device`, its buffers made once per worker."""

    def __init__(self, device: torch.device):
        n, self.calls = CONTROL[device.type]
        self.device = device
        self.a = torch.randn(n, n, device=device)
        self.b = torch.randn(n, n, device=device)
        self.out = torch.empty(n, n, device=device)
        torch.mm(self.a, self.b, out=self.out)
        synchronize(device)

    def seconds(self) -> float:
        """The median of `calls` timed products."""
        times = []
        for _ in range(self.calls):
            start = time.perf_counter()
            torch.mm(self.a, self.b, out=self.out)
            synchronize(self.device)
            times.append(time.perf_counter() - start)
        return statistics.median(times)
