"""scripts/check_timer.py: which machine state a case is compared in."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_timer.py"
spec = importlib.util.spec_from_file_location("check_timer", SCRIPT)
check_timer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_timer)

FAST, SLOW = 0.39e-3, 0.47e-3
SPLIT = math.log(FAST * SLOW) / 2


def _record(passes: list[tuple[float, float]]) -> dict:
    """A suite case whose passes are (median seconds, control), two rounds each."""
    samples = [v for v, _ in passes for _ in range(2)]
    return {"repetitions": [{"status": "ok", "stats": {"samples": samples},
                             "passes": [{"rounds": 2, "control_s": c} for _, c in passes]}]}


def test_a_case_is_compared_in_the_state_both_sides_saw_most():
    # measured: 2 fast passes (one a stray at 23.8 ms) against 19 slow ones, the Timer's bursts
    # in both states; the fast state read 1.49x, the slow one agreed
    suite = _record([(12.1e-3, FAST), (23.8e-3, FAST)] + [(17.5e-3, SLOW)] * 19)
    bursts = [[[12.0e-3] * 6 + [17.4e-3] * 12, [FAST] * 6 + [SLOW] * 12]]
    assert check_timer._same_state(suite, bursts, SPLIT) == pytest.approx(17.5 / 17.4)
    # with 3 fast passes a side, the slow state still has more: it stays the one compared
    suite = _record([(12.1e-3, FAST)] * 3 + [(17.5e-3, SLOW)] * 19)
    assert check_timer._same_state(suite, bursts, SPLIT) == pytest.approx(17.5 / 17.4)
    # fewer than 3 a side in either state: no state comparison (the control's ratio is used)
    few = _record([(12.1e-3, FAST)] * 2 + [(17.5e-3, SLOW)] * 2)
    assert check_timer._same_state(few, bursts, SPLIT) is None
    assert check_timer._same_state(suite, bursts, None) is None


def test_the_check_runs_the_bptt_lstm_loops_the_run_recorded():
    env = {"A": "1"}
    compiled = {"software": {"bptt_kernel": "compiled (float32 on CPU)"}}
    assert check_timer.same_loops(compiled, env) == (env, "compiled (float32 on CPU)")
    python = {"software": {"bptt_kernel": "Python loops: no C++ compiler (c++) on PATH"}}
    assert check_timer.same_loops(python, env)[0] == {"A": "1", "MNISTBENCH_BPTT_KERNEL": "off"}
    older, loops = check_timer.same_loops({"software": {}}, env)  # before the compiled loops
    assert older["MNISTBENCH_BPTT_KERNEL"] == "off" and loops.startswith("Python loops")
