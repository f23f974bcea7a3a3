"""The reference workloads: the calibration GEMM of every repetition, and the control of every pass.

Calibration: a float32 GEMM large enough for the peak, timed at the start of each repetition.
Its GFLOP/s is the machine's calibrated peak for this run (each case's GFLOP/s is shown as a
fraction of it), and its ratio between two runs says whether the machine itself ran faster or
slower — apart from the code (issue #11).

Control: two short reference bursts timed just before every pass of every case, a small GEMM
and a small tanh recurrence (28 steps of batch 64, hidden 128: a vanilla RNN's forward with its
weights fixed); the control is the geometric mean of their medians. The shared 2-core machine
has slow phases of seconds to hours, and they hit small, dispatcher-bound ops harder than large
ones. Measured there (12 RNN and CNN cases, each burst next to both references, two processes
of 100 s): the spread of a case's burst medians (sd of their logs) was 0.13-0.18 raw, 0.11-0.16
relative to the GEMM alone, 0.09-0.16 relative to the geometric mean; between the two processes
the cases moved 0.99-1.105x raw, 0.93-1.03x relative to the GEMM alone and 0.95-1.03x relative
to the mean. A case's time relative to its control is what a same-machine verdict leans on.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import torch

from bench.store import schema
from bench.system.device import synchronize

# n x n @ n x n: 2 n^3 FLOPs. 1024 keeps a 2-core CPU busy ~10 ms a call, past cache sizes;
# 8192 keeps a datacenter GPU busy ~20 ms in float32 (TF32 off, as torch's default).
GEMM_N = {"cpu": 1024, "cuda": 8192}
CALLS = 12
# the control's GEMM: n x n @ n x n, `calls` times; about 3 ms on the 2-core CPU
CONTROL = {"cpu": (256, 10), "cuda": (1024, 10)}
# the control's recurrence: (steps, batch, hidden), 3 calls; about 4 ms on the 2-core CPU
RECURRENCE = (28, 64, 128)
RECURRENCE_CALLS = 3
# A third part, recorded beside the control but not in it: `FORK[1]` in-place adds on `FORK[0]`
# floats, each large enough for ATen to split it over the threads, so that its time is mostly the
# threads' fork and join (about 0.12 ms on the 2-core CPU; CPU runs only). On that machine it moved
# 1.42x between the two states, against 1.33x for the recurrence and 1.07x for the GEMM; kept to
# learn whether it also sees the states that the control missed in two smoke A/A pairs (issue 11).
FORK = (1 << 17, 20)
FORK_CALLS = 5


def control_id(device: torch.device) -> str:
    """What the control times, for the results file: runs whose controls differ cannot divide
    by them."""
    n, calls = CONTROL[device.type]
    return f"gemm{n}x{calls}*tanh{'x'.join(map(str, RECURRENCE))}x{RECURRENCE_CALLS}"


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
                              statistics.median(hosts) if hosts else None, points,
                              control_id(device))


def combined(gemm_s: float, recurrence_s: float) -> float:
    """The control's value from its parts: their geometric mean."""
    return math.sqrt(gemm_s * recurrence_s)


class Control:
    """The per-pass control workload on `device`, its buffers made once per worker."""

    def __init__(self, device: torch.device):
        n, self.calls = CONTROL[device.type]
        self.device = device
        generator = torch.Generator().manual_seed(0)  # leaves the global RNG alone
        self.a = torch.randn(n, n, generator=generator).to(device)
        self.b = torch.randn(n, n, generator=generator).to(device)
        self.out = torch.empty(n, n, device=device)
        steps, batch, hidden = RECURRENCE
        self.w = (torch.randn(hidden, hidden, generator=generator) * 0.05).to(device)
        self.x = torch.randn(steps, batch, hidden, generator=generator).to(device)  # (T, B, H)
        self.spread = torch.zeros(FORK[0]) if device.type == "cpu" else None
        self._gemm()
        self._recurrence()
        if self.spread is not None:
            self._fork()
        synchronize(device)

    def _gemm(self) -> None:
        torch.mm(self.a, self.b, out=self.out)

    def _recurrence(self) -> None:
        with torch.no_grad():
            h = torch.zeros_like(self.x[0])
            for x_t in self.x:
                h = torch.tanh(torch.addmm(x_t, h, self.w))

    def _fork(self) -> None:
        for _ in range(FORK[1]):
            self.spread.add_(1.0)

    def fork_s(self) -> float | None:
        """The fork-join probe's median call time in seconds (FORK); None off the CPU."""
        return None if self.spread is None else self._median(self._fork, FORK_CALLS)

    def _median(self, work: Callable[[], None], calls: int) -> float:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            work()
            synchronize(self.device)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def parts(self) -> tuple[float, float]:
        """The GEMM's and the recurrence's median call times, in seconds."""
        return (self._median(self._gemm, self.calls),
                self._median(self._recurrence, RECURRENCE_CALLS))

    def seconds(self) -> float:
        """The geometric mean of the GEMM's and the recurrence's median call times."""
        return combined(*self.parts())
