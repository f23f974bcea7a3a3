"""Fault injection for the test suite, set through the environment (never used by a real run).

MNISTBENCH_FAIL_CASES=REGEX   every timed case and training run whose name matches raises instead
                              of running, to prove a failing case is recorded and the run goes on.
MNISTBENCH_SLOW_CASES=REGEX=FACTOR
                              every timed case whose name matches takes FACTOR times as long: the
                              timed step busy-waits (FACTOR - 1) times its own duration after
                              itself, inside the timed call; to prove a slowdown is caught.
MNISTBENCH_KILL_RANK=RANK:REGEX
                              in a scaling run, rank RANK kills itself (SIGKILL, no clean-up)
                              in the middle of every item whose name matches (after its timed
                              steps, before its time-to-target run): a rank that dies mid-run.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable

from bench.errors import UsageError

FAIL_ENV = "MNISTBENCH_FAIL_CASES"
SLOW_ENV = "MNISTBENCH_SLOW_CASES"
KILL_ENV = "MNISTBENCH_KILL_RANK"


def injected_failure(name: str) -> None:
    """Raise when `name` matches $MNISTBENCH_FAIL_CASES."""
    pattern = os.environ.get(FAIL_ENV)
    if pattern and re.search(pattern, name):
        raise RuntimeError(f"injected failure ({FAIL_ENV} matches {name})")


def slow_cases() -> tuple[re.Pattern, float] | None:
    """$MNISTBENCH_SLOW_CASES as (pattern, factor), None when unset; UsageError when malformed."""
    text = os.environ.get(SLOW_ENV, "")
    if not text:
        return None
    pattern, sep, factor = text.rpartition("=")
    example = f"e.g. {SLOW_ENV}='rnn/loop/=1.25'"
    try:
        value = float(factor)
        if not sep or not pattern or not value >= 1.0 or value == float("inf"):
            raise ValueError
        return re.compile(pattern), value
    except (ValueError, re.error):
        raise UsageError(f"{SLOW_ENV}={text!r} is not REGEX=FACTOR with a valid regular "
                         f"expression and a finite factor >= 1; {example}") from None


def slow_factor(name: str) -> float:
    """How many times as long the case `name` is made to take (1.0: as it is)."""
    spec = slow_cases()
    return spec[1] if spec and spec[0].search(name) else 1.0


def slowed(step: Callable[[], None], factor: float) -> Callable[[], None]:
    """`step`, followed by a busy-wait of (factor - 1) times what the step took."""
    def run() -> None:
        start = time.perf_counter()
        step()
        end = time.perf_counter() + (factor - 1.0) * (time.perf_counter() - start)
        while time.perf_counter() < end:
            pass
    return run


def kill_point(name: str, rank: int) -> None:
    """SIGKILL this process when $MNISTBENCH_KILL_RANK is RANK:REGEX, RANK is `rank` and REGEX
    matches the item `name`."""
    target, sep, pattern = os.environ.get(KILL_ENV, "").partition(":")
    if sep and target.strip() == str(rank) and re.search(pattern, name):
        os.kill(os.getpid(), signal.SIGKILL)
