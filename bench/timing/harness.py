"""The pytest plugin that drives bench/timing/bench_*.py inside one worker process.

It parametrises each module's `case` argument with the repetition's cases, runs them in the
order it was given (shuffled per repetition, across both modules), provides the `timing` fixture
(first call timed on its own, then pytest-benchmark's rounds), and turns every finished case into
a repetition entry the moment it finishes — passed, failed or errored — so progress is saved case
by case. pytest-benchmark does the timing and the statistics; this plugin only reads them.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bench.errors import one_line
from bench.faults import injected_failure, slow_factor, slowed
from bench.system.device import set_seed, synchronize
from bench.timing.cases import Case
from bench.timing.records import repetition_entry

BENCH_MODULES = ("bench_rnn.py", "bench_cnn.py")


def module_paths() -> list[str]:
    here = Path(__file__).resolve().parent
    return [str(here / name) for name in BENCH_MODULES]


class Timing:
    """What a timed case needs: the device, and one way to measure."""

    def __init__(self, device: torch.device, slow_factor: float = 1.0):
        self.device = device
        self.slow_factor = slow_factor  # MNISTBENCH_SLOW_CASES (bench.faults); 1 = as it is

    def measure(self, benchmark, step: Callable[[], None], model: torch.nn.Module,
                flops: float | None = None) -> None:
        """Time the first call alone (compilation lands there), then pytest-benchmark's rounds.

        `step` synchronises the device itself, so every sample covers finished GPU work.
        `flops` is the work of one call (counted outside the timed region by the caller).
        """
        benchmark.extra_info["flops"] = flops
        if self.slow_factor != 1.0:
            step = slowed(step, self.slow_factor)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            synchronize(self.device)
            start = time.perf_counter()
            step()
            benchmark.extra_info["first_call_s"] = time.perf_counter() - start
            benchmark(step)
        messages = list(getattr(model, "recorded_warnings", []))
        messages += [f"{w.category.__name__}: {w.message}" for w in caught]
        benchmark.extra_info["warnings"] = sorted(set(messages))


class HarnessPlugin:
    """Registered with `pytest.main(plugins=[...])` by the runner."""

    def __init__(self, cases: list[Case], device: torch.device, seed: int, repetition: int,
                 on_start: Callable[[Case], None], on_record: Callable[[dict], None]):
        self.cases = cases  # in the order to run them
        self.device = device
        self.seed = seed
        self.repetition = repetition
        self.on_start = on_start
        self.on_record = on_record

    def pytest_collection_modifyitems(self, items):
        order = {case.name: i for i, case in enumerate(self.cases)}
        items.sort(key=lambda item: order.get(getattr(_case_of(item), "name", None), len(order)))

    def pytest_generate_tests(self, metafunc):
        if "case" not in metafunc.fixturenames:
            return
        kind = metafunc.function.__name__.removeprefix("test_")
        cases = [c for c in self.cases if c.kind == kind]
        metafunc.parametrize("case", cases, ids=[c.name for c in cases])

    @pytest.fixture
    def timing(self, case):
        set_seed(self.seed)  # the same weights and inputs for a case, whatever ran before it
        injected_failure(case.name)
        yield Timing(self.device, slow_factor(case.name))
        if self.device.type == "cuda":
            torch.cuda.empty_cache()  # an OOM in one case must not starve the next

    def pytest_runtest_setup(self, item):
        case = _case_of(item)
        if case is not None:
            self.on_start(case)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        case = _case_of(item)
        if case is None or not (call.when == "call" or (call.when == "setup" and report.failed)):
            return
        if report.passed:
            benchmark = item.funcargs["benchmark"]
            record = repetition_entry(case, self.repetition, "ok", benchmark=benchmark,
                                      flops=benchmark.extra_info.get("flops"))
        else:
            record = repetition_entry(case, self.repetition, "failed", _error_of(call))
        self.on_record(record)


def _case_of(item) -> Case | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("case") if callspec else None


def _error_of(call) -> str:
    if call.excinfo is None:
        return "failed without an exception"
    return one_line(call.excinfo.value)
