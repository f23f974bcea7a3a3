"""One pytest session that times a list of cases through pytest-benchmark (bench/timing/bench_*.py).

The runner hands over the pending cases; each finished case comes back through `on_record` at
once (ok, failed or skipped), so progress is saved case by case.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bench.timing.cases import Case
from bench.timing.harness import HarnessPlugin, module_paths
from bench.timing.profiles import Profile
from bench.timing.records import skipped_record


def time_cases(cases: list[Case], profile: Profile, device: torch.device, seed: int,
               log_dir: Path, on_start: Callable[[Case], None],
               on_record: Callable[[dict], None]) -> None:
    """Time every case (a skipped one is recorded as such); pytest's output goes to pytest.log.

    Raises:
        KeyboardInterrupt: the session was interrupted (Ctrl-C).
        RuntimeError: pytest could not run the benchmark modules at all.
    """
    from implementations import rnn

    for case in [c for c in cases if c.skip_reason]:
        on_start(case)
        on_record(skipped_record(case))
    runnable = [c for c in cases if not c.skip_reason]
    if not runnable:
        return
    compiling = {info.name for info in rnn.describe() if info.compiles}
    plugin = HarnessPlugin(runnable, device, seed, compiling, on_start=on_start,
                           on_record=on_record)
    args = [*module_paths(), "-q", "-p", "no:cacheprovider", "-c", os.devnull,
            "--rootdir", str(log_dir), "--capture=sys", "--benchmark-sort=name",
            f"--benchmark-min-rounds={profile.min_rounds}",
            f"--benchmark-max-time={profile.max_time_s}", "--benchmark-warmup=on",
            f"--benchmark-warmup-iterations={profile.warmup_rounds}"]
    with open(log_dir / "pytest.log", "a", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log):
        code = pytest.main(args, plugins=[plugin])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise RuntimeError(f"pytest could not run the benchmark modules (exit {int(code)}); "
                           f"see {log_dir / 'pytest.log'}")
