"""bench.faults: the fault-injection hooks the test suite drives through the environment."""

from __future__ import annotations

import time

import pytest

from bench import faults
from bench.errors import UsageError


def test_injected_failure_matches_by_regex(monkeypatch):
    monkeypatch.setenv(faults.FAIL_ENV, "rnn/bmm/")
    faults.injected_failure("rnn/loop/forward/b64")
    with pytest.raises(RuntimeError, match="injected failure"):
        faults.injected_failure("rnn/bmm/forward/b64")


def test_slow_cases_parses_regex_and_factor(monkeypatch):
    monkeypatch.delenv(faults.SLOW_ENV, raising=False)
    assert faults.slow_cases() is None and faults.slow_factor("anything") == 1.0
    monkeypatch.setenv(faults.SLOW_ENV, "rnn/(loop|bmm)/=1.25")
    pattern, factor = faults.slow_cases()
    assert pattern.pattern == "rnn/(loop|bmm)/" and factor == 1.25
    assert faults.slow_factor("rnn/bmm/forward/b64") == 1.25
    assert faults.slow_factor("cnn/resnet/projection") == 1.0
    monkeypatch.setenv(faults.SLOW_ENV, "a=b=2")  # the last '=' splits: the regex may hold one
    assert faults.slow_cases()[0].pattern == "a=b"


@pytest.mark.parametrize("bad", ["rnn/loop/", "=1.5", "rnn/=fast", "rnn/=0.5", "rnn/=inf",
                                 "rnn/=nan", "(=1.2"])
def test_malformed_slow_cases_is_one_usage_error(monkeypatch, bad):
    monkeypatch.setenv(faults.SLOW_ENV, bad)
    with pytest.raises(UsageError, match="MNISTBENCH_SLOW_CASES=.* is not REGEX=FACTOR"):
        faults.slow_cases()


def test_slowed_step_takes_factor_times_as_long():
    def step():
        end = time.perf_counter() + 0.02
        while time.perf_counter() < end:
            pass

    start = time.perf_counter()
    faults.slowed(step, 2.0)()
    took = time.perf_counter() - start
    assert 0.039 < took < 0.2  # 20 ms of work, then 20 ms of busy-wait
