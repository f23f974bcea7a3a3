"""One repetition: a pytest session over a list of cases, inside a worker process.

`time_cases` runs the given cases (already in this repetition's order) through pytest-benchmark
(bench/timing/bench_*.py); each finished case comes back through `on_record` at once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bench.timing.cases import Case
from bench.timing.harness import HarnessPlugin, PassBudget, module_paths
from bench.timing.profiles import Profile


def time_cases(cases: list[Case], profile: Profile, device: torch.device, seed: int,
               repetition: int, log_dir: Path, on_start: Callable[[Case], None],
               on_record: Callable[[dict], None],
               counted: frozenset[str] = frozenset()) -> None:
    """Time every case once, in the order given; pytest's output goes to log_dir/pytest.log.
    FLOPs are counted for every case but those in `counted`.

    Raises:
        KeyboardInterrupt: the session was interrupted (Ctrl-C).
        RuntimeError: pytest could not run the benchmark modules at all.
    """
    if not cases:
        return
    plugin = HarnessPlugin(cases, device, seed, repetition, on_start=on_start,
                           on_record=on_record, blocks=profile.blocks,
                           budget=PassBudget(profile.min_rounds, profile.max_time_s,
                                             profile.warmup_rounds, profile.blocks,
                                             profile.case_budget_s),
                           counted=counted)
    args = [*module_paths(), "-q", "-p", "no:cacheprovider", "-c", os.devnull,
            "--rootdir", str(log_dir), "--capture=sys", "--benchmark-sort=name"]
    with open(log_dir / "pytest.log", "a", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log):
        print(f"===== repetition {repetition}: {len(cases)} cases")
        code = pytest.main(args, plugins=[plugin])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise RuntimeError(f"pytest could not run the benchmark modules (exit {int(code)}); "
                           f"see {log_dir / 'pytest.log'}")
