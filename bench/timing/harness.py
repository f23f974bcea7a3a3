"""The pytest plugin that drives bench/timing/bench_*.py inside one worker process.

A repetition times its cases in `blocks` passes (profile data). In each pass every case runs
pytest-benchmark once (warm-up, then its rounds), in an order shuffled per pass; a case's model
and inputs are built once, in its first pass, where its first call is timed on its own
(compilation lands there). The rounds of a case thus come from the whole length of the
repetition instead of one instant of it: this shared machine has slow phases lasting seconds,
and a case timed in one contiguous block lands in one of them or not (measured on the 2-core
VM: the same RNN step varied 2x within a minute, its 1-second medians 6.5-15 ms).

Each case becomes one repetition entry after its last pass (its samples pooled over passes),
or at once when it fails; pytest-benchmark does the timing, this plugin only reads it.
"""

from __future__ import annotations

import math
import random
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import torch

from bench.errors import one_line
from bench.faults import injected_failure, slow_factor, slowed
from bench.system.device import set_seed, synchronize
from bench.timing import calibrate
from bench.timing.calibrate import Control
from bench.timing.cases import Case
from bench.timing.records import repetition_entry

BENCH_MODULES = ("bench_rnn.py", "bench_cnn.py")


def module_paths() -> list[str]:
    from pathlib import Path

    here = Path(__file__).resolve().parent
    return [str(here / name) for name in BENCH_MODULES]


@dataclass
class Prepared:
    """A case built once per worker and timed in every pass."""

    step: Callable[[], None]
    model: torch.nn.Module
    flops: float | None
    first_call_s: float
    samples: list[float] = field(default_factory=list)
    passes: list[dict] = field(default_factory=list)  # schema.Pass fields, one per pass
    warnings: set[str] = field(default_factory=set)
    native: dict | None = None  # the last pass's pytest-benchmark record


# (step, model, flops of one call): what a bench module builds for a case
Builder = Callable[[], tuple[Callable[[], None], torch.nn.Module, float | None]]


@dataclass(frozen=True)
class PassBudget:
    """How one pass of a case is timed (profile data): rounds while `max_time_s` lasts, at least
    `min_rounds`; warm-up rounds before them (`first_warmup` in the first pass, where the case
    was just built; one in later passes, to bring the caches back after other cases ran)."""

    min_rounds: int
    max_time_s: float
    first_warmup: int
    passes: int = 1
    # a case whose rounds have taken this long in a repetition skips its remaining passes but
    # the last: a step of 0.75 s (the seed's bmm LSTM) would otherwise cost passes x 0.75 s
    case_budget_s: float = float("inf")

    def skips(self, block: int, timed_s: float) -> bool:
        return 0 < block < self.passes - 1 and timed_s >= self.case_budget_s

    def rounds(self, estimate_s: float) -> int:
        if estimate_s <= 0:
            return self.min_rounds
        return max(self.min_rounds, math.ceil(self.max_time_s / estimate_s))

    def warmup(self, block: int, estimate_s: float) -> int:
        if block == 0:
            return self.first_warmup
        # a step longer than the pass's budget is warm enough after one pass: no extra call
        return 1 if estimate_s < self.max_time_s else 0


class Timing:
    """What a timed case needs: the device, and one way to measure a pass."""

    def __init__(self, device: torch.device, case: Case, block: int,
                 cache: dict[str, Prepared], budget: PassBudget, control: Control,
                 slow_factor: float = 1.0, count_flops: bool = True):
        self.device = device
        # False when an earlier repetition of the run recorded the case's FLOPs: counting them
        # took 11 s of each quick repetition on 2 cores, and they are the same every time
        self.count_flops = count_flops
        self.control = control
        self.case = case
        self.block = block
        self.cache = cache
        self.budget = budget
        self.slow_factor = slow_factor  # MNISTBENCH_SLOW_CASES (bench.faults); 1 = as it is

    def measure(self, benchmark, build: Builder) -> None:
        """Build the case on its first pass (its first call timed alone), then time this pass's
        rounds with pytest-benchmark. `build` returns (step, model, flops); step synchronises
        the device itself, so every sample covers finished GPU work; flops is counted outside
        the timed region."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            prepared = self.cache.get(self.case.name)
            if prepared is not None and self.budget.skips(
                    self.block, statistics.median(prepared.samples) * len(prepared.samples)):
                return  # the median, not the sum: one slow round must not cost a case its passes
            if prepared is None:
                step, model, flops = build()
                if self.slow_factor != 1.0:
                    step = slowed(step, self.slow_factor)
                synchronize(self.device)
                start = time.perf_counter()
                step()
                prepared = Prepared(step, model, flops, time.perf_counter() - start)
                self.cache[self.case.name] = prepared
            # the first call includes compilation: until rounds exist, the warm-up's time says
            # how long a call takes
            estimate = (statistics.median(prepared.samples) if prepared.samples
                        else _time_call(prepared.step, self.budget.first_warmup,
                                        self.budget.case_budget_s / 4))
            warmup = self.budget.warmup(self.block, estimate) if prepared.samples else 0
            control_parts = self.control.parts()
            fork_s = self.control.fork_s()
            benchmark.pedantic(prepared.step, rounds=self.budget.rounds(estimate),
                               warmup_rounds=warmup, iterations=1)
        samples = benchmark.stats.stats.data
        prepared.samples.extend(samples)
        prepared.passes.append({"rounds": len(samples),
                                "control_s": calibrate.combined(*control_parts),
                                "control_gemm_s": control_parts[0],
                                "control_recurrence_s": control_parts[1],
                                "control_fork_s": fork_s})
        prepared.warnings.update(getattr(prepared.model, "recorded_warnings", []))
        prepared.warnings.update(f"{w.category.__name__}: {w.message}" for w in caught)
        prepared.native = benchmark.stats.as_dict(include_data=True)


def _time_call(step: Callable[[], None], calls: int, budget_s: float) -> float:
    """The warm-up calls of a first pass, timed: the last call's duration (0 with no calls).
    They stop early once they have taken `budget_s`: one call of a 0.75 s step is warm-up
    enough."""
    duration, spent = 0.0, 0.0
    for _ in range(calls):
        start = time.perf_counter()
        step()
        duration = time.perf_counter() - start
        spent += duration
        if spent >= budget_s:
            break
    return duration


def pass_order(names: list[str], seed: int, repetition: int, block: int) -> list[str]:
    """The order of one pass: the repetition's own order first, a fresh shuffle after that."""
    if block == 0:
        return list(names)
    shuffled = list(names)
    random.Random(f"{seed}:{repetition}:{block}").shuffle(shuffled)
    return shuffled


class HarnessPlugin:
    """Registered with `pytest.main(plugins=[...])` by the runner."""

    def __init__(self, cases: list[Case], device: torch.device, seed: int, repetition: int,
                 on_start: Callable[[Case], None], on_record: Callable[[dict], None],
                 budget: PassBudget, blocks: int = 1, counted: frozenset[str] = frozenset()):
        self.cases = cases  # in the order to run them
        self.counted = counted  # cases whose FLOPs the run has already recorded
        self.device = device
        self.seed = seed
        self.repetition = repetition
        self.on_start = on_start
        self.on_record = on_record
        self.budget = budget
        self.blocks = blocks
        self.cache: dict[str, Prepared] = {}
        self.control = Control(device)
        self.failed: set[str] = set()
        names = [c.name for c in cases]
        self.position = {(name, block): i for block in range(blocks) for i, name in
                         enumerate(pass_order(names, seed, repetition, block),
                                   start=block * len(names))}

    def pytest_collection_modifyitems(self, items):
        last = len(self.position)
        items.sort(key=lambda item: self.position.get(_key(item), last))

    def pytest_generate_tests(self, metafunc):
        if "case" not in metafunc.fixturenames:
            return
        kind = metafunc.function.__name__.removeprefix("test_")
        cases = [c for c in self.cases if c.kind == kind]
        pairs = [(c, b) for b in range(self.blocks) for c in cases]
        metafunc.parametrize("case,block", pairs,
                             ids=[f"{c.name}#{b}" for c, b in pairs])

    @pytest.fixture
    def timing(self, case, block):
        if case.name in self.failed:
            pytest.skip("failed in an earlier pass of this repetition")
        if block == 0:
            set_seed(self.seed)  # the same weights and inputs for a case, whatever ran before it
            injected_failure(case.name)
        yield Timing(self.device, case, block, self.cache, self.budget, self.control,
                     slow_factor(case.name), count_flops=case.name not in self.counted)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()  # an OOM in one case must not starve the next

    def pytest_runtest_setup(self, item):
        key = _key(item)
        if key is not None and key[0] not in self.failed:
            self.on_start(item.callspec.params["case"])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        key = _key(item)
        if key is None or key[0] in self.failed or report.skipped:
            return
        if not (call.when == "call" or (call.when == "setup" and report.failed)):
            return
        name, block = key
        case = item.callspec.params["case"]
        if report.failed:
            self.failed.add(name)
            self.cache.pop(name, None)
            self.on_record(repetition_entry(case, self.repetition, "failed", _error_of(call)))
        elif block == self.blocks - 1:
            prepared = self.cache.pop(name)
            self.on_record(repetition_entry(
                case, self.repetition, "ok", samples=prepared.samples,
                first_call_s=prepared.first_call_s, flops=prepared.flops, passes=prepared.passes,
                warnings=sorted(prepared.warnings), native=prepared.native))


def _key(item) -> tuple[str, int] | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or "case" not in callspec.params:
        return None
    return callspec.params["case"].name, callspec.params["block"]


def _error_of(call) -> str:
    if call.excinfo is None:
        return "failed without an exception"
    return one_line(call.excinfo.value)
