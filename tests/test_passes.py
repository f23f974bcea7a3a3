"""Passes inside a repetition (bench.timing.harness) and the verdict units built from them
(bench.timing.passes.pass_units, reports.analysis.verdict)."""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import pytest

from bench.timing import passes
from bench.timing.harness import PassBudget, pass_order
from reports import analysis, matching
from reports.compare import write_compare
from reports.load import load_run
from tests.report_samples import make_results, write_results


def test_first_pass_keeps_the_repetitions_order_later_passes_reshuffle_reproducibly():
    names = [f"case{i}" for i in range(12)]
    assert pass_order(names, 0, 1, 0) == names
    later = [pass_order(names, 0, 1, block) for block in (1, 2, 3)]
    assert all(sorted(order) == sorted(names) for order in later)
    assert len({tuple(order) for order in later}) == 3  # each pass its own order
    assert pass_order(names, 0, 1, 2) == later[1]  # the same seed gives the same order
    assert pass_order(names, 0, 2, 2) != later[1]  # another repetition, another order


def test_pass_budget_rounds_fill_the_time_and_keep_the_minimum():
    budget = PassBudget(min_rounds=2, max_time_s=0.01, first_warmup=3, passes=6)
    assert budget.rounds(0.001) == 10
    assert budget.rounds(0.5) == 2  # a slow step still gets its minimum
    assert budget.rounds(0.0) == 2  # no estimate yet
    assert budget.warmup(0, 0.001) == 3
    assert budget.warmup(3, 0.001) == 1  # caches back after other cases ran
    assert budget.warmup(3, 0.5) == 0  # a step longer than the pass is warm enough


def test_an_expensive_case_skips_its_middle_passes_never_the_first_or_last():
    budget = PassBudget(min_rounds=1, max_time_s=0.01, first_warmup=1, passes=5,
                        case_budget_s=1.0)
    assert [budget.skips(b, 1.5) for b in range(5)] == [False, True, True, True, False]
    assert not any(budget.skips(b, 0.5) for b in range(5))


def _rep(samples, meta):
    return {"stats": {"samples": samples}, "passes": meta}


def test_pass_units_split_samples_by_pass_and_divide_by_its_control():
    reps = [_rep([2.0, 4.0, 6.0], [{"rounds": 2, "control_s": 2.0},
                                   {"rounds": 1, "control_s": 3.0}]),
            _rep([8.0], [{"rounds": 1, "control_s": 4.0}])]
    assert passes.pass_units(reps, adjusted=False) == [[2.0, 4.0], [6.0], [8.0]]
    assert passes.pass_units(reps, adjusted=True) == [[1.0, 2.0], [2.0], [2.0]]


def test_pass_units_are_empty_without_passes_or_when_they_do_not_add_up():
    assert passes.pass_units([_rep([1.0, 2.0], [])], adjusted=False) == []
    assert passes.pass_units([_rep([1.0, 2.0], [{"rounds": 3, "control_s": 1.0}])],
                            adjusted=False) == []
    assert passes.pass_units([_rep([1.0], [{"rounds": 1, "control_s": None}])],
                            adjusted=True) == []


def _row(rng, level: float, phases: list[float], reps: int = 2) -> pd.Series:
    """A case timed in `reps` repetitions of len(phases) passes; each pass's phase slows the case
    and its control alike (the shared machine's slow phases)."""
    repetitions = []
    for _ in range(reps):
        samples, meta = [], []
        for phase in phases:
            samples += list(level * phase * (1 + 0.01 * rng.standard_normal(4)))
            meta.append({"rounds": 4, "control_s": 1e-3 * phase})
        repetitions.append(_rep(samples, meta))
    return pd.Series({"rep_samples": [r["stats"]["samples"] for r in repetitions],
                      "pass_raw": passes.pass_units(repetitions, adjusted=False),
                      "pass_control": passes.pass_controls(repetitions)})


def test_the_control_takes_a_slow_phase_out_of_a_verdict_on_one_machine():
    rng = np.random.default_rng(0)
    calm = _row(rng, 1.0, [1.0] * 6)
    slowed_machine = _row(rng, 1.0, [1.5] * 6)  # the same code, the whole run 1.5x slower
    assert analysis.verdict(calm, slowed_machine, "k", adjusted=False).verdict == "slower"
    same = analysis.verdict(calm, slowed_machine, "k", adjusted=True)
    assert same.verdict == "same" and same.ratio == pytest.approx(1.0, abs=0.02)
    slower_code = _row(rng, 1.3, [1.5] * 6)
    assert analysis.verdict(calm, slower_code, "k", adjusted=True).verdict == "slower"


def _following(rng, level: float, machine: float, elasticity: float, reps: int = 3,
               n_passes: int = 8) -> pd.Series:
    """A case whose passes follow their control's phase with `elasticity` (1: one for one, 0:
    not at all); `machine` slows every control of the run (and the case by its elasticity)."""
    repetitions = []
    for _ in range(reps):
        samples, meta = [], []
        for phase in np.exp(0.15 * rng.standard_normal(n_passes)):
            control = 1e-3 * machine * phase
            samples += list(level * (machine * phase) ** elasticity
                            * (1 + 0.01 * rng.standard_normal(3)))
            meta.append({"rounds": 3, "control_s": control})
        repetitions.append(_rep(samples, meta))
    return pd.Series({"rep_samples": [r["stats"]["samples"] for r in repetitions],
                      "pass_raw": passes.pass_units(repetitions, adjusted=False),
                      "pass_control": passes.pass_controls(repetitions)})


@pytest.mark.parametrize("elasticity", [1.0, 0.6, 0.0])
def test_the_adjustment_takes_out_only_as_much_of_the_control_as_the_case_follows(elasticity):
    rng = np.random.default_rng(2)
    a = _following(rng, 1.0, 1.0, elasticity)
    b = _following(rng, 1.0, 1.4, elasticity)  # the same code; the machine's control 1.4x slower
    theta = passes.control_slope([(a["pass_raw"], a["pass_control"]),
                                 (b["pass_raw"], b["pass_control"])])
    assert theta == pytest.approx(min(elasticity / passes.CONTROL_RELIABILITY, 1.0), abs=0.1)
    units_a, units_b, basis = analysis.verdict_units(a, b, adjusted=True)
    assert basis == "adjusted"
    v = analysis.verdict(a, b, "k", adjusted=True)
    if elasticity == 1.0:
        assert v.verdict == "same" and v.ratio == pytest.approx(1.0, abs=0.05)
    if elasticity == 0.0:  # a case that ignores the control keeps its raw times
        assert v.verdict == "same" and v.ratio == pytest.approx(1.0, abs=0.05)
        assert np.allclose(np.concatenate(units_a), np.concatenate(a["pass_raw"]), rtol=0.02)
    slower = _following(rng, 1.3, 1.4, elasticity)
    assert analysis.verdict(a, slower, "k", adjusted=True).verdict == "slower"


FAST, SLOW = 0.39e-3, 0.47e-3  # a 2-core VM's control in its two states (measured: 1.2x apart)


def _two_state(rng, level: float, states: list[list[int]], response: float = 2.0,
               split: float | None = None) -> pd.Series:
    """A case on a machine with a fast and a slow state (one list per repetition, a 0/1 state
    per pass): the slow state slows its control 1.2x but the case `response` times (a small-op
    RNN step there: 2x). `split` stands for the run's own state split (bench_frame)."""
    repetitions = []
    for rep_states in states:
        samples, meta = [], []
        for slow in rep_states:
            noise = 1 + 0.02 * rng.standard_normal(3)
            samples += list(level * (response if slow else 1.0) * noise)
            meta.append({"rounds": 3, "control_s": (SLOW if slow else FAST)
                         * (1 + 0.02 * rng.standard_normal())})
        repetitions.append(_rep(samples, meta))
    units, controls = (passes.pass_units(repetitions, adjusted=False),
                       passes.pass_controls(repetitions))
    if split is None:
        split = passes.state_split([c for _, c in controls])
    return pd.Series({"rep_samples": [r["stats"]["samples"] for r in repetitions],
                      "pass_raw": units, "pass_control": controls, "control_split": split})


def test_state_split_finds_two_states_and_only_two():
    rng = np.random.default_rng(4)
    two = [*(FAST * (1 + 0.02 * rng.standard_normal(300))),
           *(SLOW * (1 + 0.02 * rng.standard_normal(200))), 2e-3]  # and one stray pass
    split = passes.state_split(two)
    assert np.log(FAST * 1.03) < split < np.log(SLOW / 1.03)
    assert passes.state_split(list(FAST * (1 + 0.02 * rng.standard_normal(300)))) is None


def test_a_run_spent_in_the_slow_state_is_judged_by_the_case_own_response():
    # Measured (quick, 2 cores): rnn/native/forward took 1.08 ms in the fast state and 2.15 ms in
    # the slow one while the control moved 1.2x, and one run spent 20 of its 21 passes slow
    rng = np.random.default_rng(5)
    mixed = _two_state(rng, 1.0, [[0] * 7, [1] * 7, [0] * 7])
    split = mixed["control_split"]
    all_slow = _two_state(rng, 1.0, [[1] * 7, [1] * 6 + [0], [1] * 7])
    assert np.log(FAST * 1.03) < analysis.pair_split(mixed, all_slow) < np.log(SLOW / 1.03)
    assert analysis.pair_split(mixed, all_slow.drop("control_split")) == split
    same = analysis.verdict(mixed, all_slow, "k", adjusted=True)
    assert same.verdict == "same" and same.ratio == pytest.approx(1.0, abs=0.05)
    slowed = _two_state(rng, 1.25, [[1] * 7, [1] * 7, [0] * 2 + [1] * 5], split=split)
    caught = analysis.verdict(mixed, slowed, "k", adjusted=True)
    assert caught.verdict == "slower" and caught.ratio == pytest.approx(1.25, abs=0.05)
    # the slope on the control alone (theta <= 1) cannot take out a 2x response to a 1.2x one
    old = analysis.verdict(mixed.drop("control_split"), all_slow.drop("control_split"), "k",
                           adjusted=True)
    assert old.ratio > 1.3 and old.high > 1.5


def test_runs_wholly_in_opposite_states_leave_an_unmeasured_case_undecided():
    # Measured (smoke, 2 cores): one 40-s run all in the fast state, the next all in the slow,
    # small-op RNN steps 1.2-1.65x slower in the second while the control moved 1.15-1.2x; no
    # run saw the case in both states, so its response was unknown and 6 of 23 were called
    rng = np.random.default_rng(6)
    fast = _two_state(rng, 1.0, [[0] * 7, [0] * 6 + [1]], response=1.6)  # one stray pass
    slow = _two_state(rng, 1.0, [[1] * 7, [1] * 6 + [0]], response=1.6)
    v, basis = analysis.verdict_with_basis(fast, slow, "k", adjusted=True)
    assert basis == "undecided" and v.verdict == "same" and v.ratio > 1.4  # the ratio stays
    # judged by the control's own ratio between the states instead, it was called slower
    assert analysis.verdict(fast.drop("control_split"), slow.drop("control_split"), "k",
                            adjusted=True).verdict == "slower"
    # a run that saw the case 3 times in each state measures its response: decided again,
    # a 1.25x slowdown is caught and an unchanged case is not called
    mixed = _two_state(rng, 1.0, [[0] * 4 + [1] * 3, [1] * 4 + [0] * 3], response=1.6,
                       split=fast["control_split"])
    v, basis = analysis.verdict_with_basis(mixed, slow, "k", adjusted=True)
    assert basis == "adjusted" and v.verdict == "same"
    slowed = _two_state(rng, 1.25, [[1] * 7, [1] * 7], response=1.6, split=None)
    v, basis = analysis.verdict_with_basis(mixed, slowed, "k", adjusted=True)
    assert basis == "adjusted" and v.verdict == "slower" and v.ratio == pytest.approx(1.25,
                                                                                       abs=0.05)


def test_a_state_factor_needs_three_passes_in_each_state_when_a_side_has_them():
    # one pass at a state change is often half in the other state: with a side that has 3 in
    # each state, a side's single slow pass does not set the case's factor
    a = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.6, 1.6], [1.6, 1.6], [1.6, 1.6]]
    a_controls = [(0, FAST)] * 3 + [(0, SLOW)] * 3
    b = [[1.0, 1.0]] * 6 + [[1.1, 1.1]]  # its one slow pass caught mid-change
    b_controls = [(0, FAST)] * 6 + [(0, SLOW)]
    split = float(np.log(FAST * SLOW) / 2)
    _, adjusted_b, factor = passes.state_adjusted(a, a_controls, b, b_controls, split)
    assert factor == pytest.approx(1.6)
    assert adjusted_b[-1] == pytest.approx([1.1 / 1.6, 1.1 / 1.6])
    # without such a side, the single slow pass is all there is to go by
    assert passes.state_adjusted(b, b_controls, b, b_controls, split)[2] == pytest.approx(1.1)


def test_runs_whose_measured_state_factors_disagree_leave_the_case_undecided():
    # Measured (quick, 2 cores): rnn/compile/forward_backward, ~2.95 ms fast; one run's "slow"
    # passes were a third state (control slow, the case 1.09x), the other's 1.66x with only 2
    # fast passes; the first run's factor called the second 1.47x slower, 15 of 70 such cases
    split = float(np.log(FAST * SLOW) / 2)
    third = [[2.95, 2.95]] * 17 + [[3.2, 3.2]] * 4
    third_controls = [(0, FAST)] * 17 + [(0, SLOW)] * 4
    slow = [[2.9, 2.9]] * 2 + [[4.8, 4.8]] * 19
    slow_controls = [(0, FAST)] * 2 + [(0, SLOW)] * 19
    sides = [passes._by_state(u, c, split) for u, c in ((third, third_controls),
                                                         (slow, slow_controls))]
    assert passes.state_undecided(sides, same_case=True)
    assert passes.state_adjusted(third, third_controls, slow, slow_controls, split,
                                 same_case=True)[2] is None
    # two styles in one run respond to the states each in its own way: no such check
    assert not passes.state_undecided(sides)
    # factors that agree within 1.3x are judged: the first run's 1.36x here, the second's 1.66x
    agree = [[2.95, 2.95]] * 17 + [[4.0, 4.0]] * 4
    sides = [passes._by_state(u, c, split) for u, c in ((agree, third_controls),
                                                         (slow, slow_controls))]
    assert not passes.state_undecided(sides, same_case=True)
    # a slowdown keeps each run's factor, so a slowed case is still decided
    slowed = [[v * 1.25 for v in unit] for unit in slow]
    sides = [passes._by_state(u, c, split) for u, c in ((slow, slow_controls),
                                                         (slowed, slow_controls))]
    assert not passes.state_undecided(sides, same_case=True)


def _series(units: list[list[float]], slow: list[bool], split: float) -> pd.Series:
    """A case's passes over two repetitions (halves), each pass's control fast or slow."""
    half = len(units) // 2
    controls = [(int(i >= half), SLOW if s else FAST) for i, s in enumerate(slow)]
    samples = [[v for u in units[:half] for v in u], [v for u in units[half:] for v in u]]
    return pd.Series({"rep_samples": samples, "pass_raw": units, "pass_control": controls,
                      "control_split": split})


def test_a_verdict_that_holds_under_either_runs_state_factor_is_decided():
    # Measured (smoke, 2 cores): rnn/jit/forward_backward, ~4.15 ms fast. The first run's two
    # "slow" passes were a control blip (the case at its fast time) and one real slow pass
    # (1.46x); the second run, slowed 1.3x, slowed 1.63x in its slow passes. The factors
    # disagree by more than 1.3x, but either one calls the second run slower.
    split = float(np.log(FAST * SLOW) / 2)
    first = [[4.15, 4.2]] * 6 + [[4.15, 4.1]] + [[4.1, 4.2]] * 5 + [[6.09, 6.1]] + [[4.2, 4.1]]
    first_slow = [False] * 6 + [True] + [False] * 5 + [True, False]
    second = [[5.6, 5.7], [9.4, 9.3], [9.1, 9.2], [9.6, 9.5], [9.4, 9.4], [9.3, 9.4], [9.4, 9.3],
              [8.9, 9.0], [5.5, 5.6], [5.8, 5.7], [5.8, 5.9], [6.5, 6.6], [6.0, 6.0], [5.7, 5.7]]
    second_slow = [False] + [True] * 7 + [False] * 3 + [True] + [False] * 2
    a, b = _series(first, first_slow, split), _series(second, second_slow, split)
    choices = passes.state_factor_choices(a["pass_raw"], a["pass_control"], b["pass_raw"],
                                          b["pass_control"], split)
    assert len(choices) == 2 and max(choices) / min(choices) > passes.STATE_FACTOR_SPREAD
    v, basis = analysis.verdict_with_basis(a, b, "k", adjusted=True, same_case=True)
    assert basis == "adjusted" and v.verdict == "slower" and 1.25 < v.ratio < 1.45
    # where the two factors lead to different verdicts the case stays undecided: the third
    # state of the quick A/A pair below (one run's factor called the other 1.47x slower)
    third = [[2.95, 2.95]] * 17 + [[3.2, 3.2]] * 4
    slowest = [[2.9, 2.9]] * 2 + [[4.8, 4.8]] * 19
    v, basis = analysis.verdict_with_basis(
        _series(third, [False] * 17 + [True] * 4, split),
        _series(slowest, [False] * 2 + [True] * 19, split), "k", adjusted=True, same_case=True)
    assert basis == "undecided" and v.verdict == "same"
    # a pair undecided for want of passes in each state has no factors to choose between
    assert passes.state_factor_choices(third[:17], [(0, FAST)] * 17, slowest[2:],
                                       [(0, SLOW)] * 19, split) == []


def test_pass_controls_line_up_with_the_units_and_need_every_control():
    reps = [_rep([2.0, 4.0, 6.0], [{"rounds": 2, "control_s": 2.0}, {"rounds": 0, "control_s": 9.0},
                                   {"rounds": 1, "control_s": 3.0}]),
            _rep([8.0], [{"rounds": 1, "control_s": 4.0}])]
    assert passes.pass_controls(reps) == [(0, 2.0), (0, 3.0), (1, 4.0)]
    assert len(passes.pass_controls(reps)) == len(passes.pass_units(reps, adjusted=False))
    assert passes.pass_controls([_rep([1.0], [{"rounds": 1, "control_s": None}])]) == []


def test_without_passes_the_verdict_falls_back_to_repetitions():
    a = pd.Series({"rep_samples": [[1.0, 1.0], [1.0, 1.0]], "pass_raw": [], "pass_control": []})
    b = pd.Series({"rep_samples": [[2.0, 2.0], [2.0, 2.0]], "pass_raw": [], "pass_control": []})
    v = analysis.verdict(a, b, "k", adjusted=True)
    assert (v.verdict, v.ratio, v.repetitions) == ("slower", 2.0, 2)


def test_passes_do_not_stand_in_for_repetitions():
    rng = np.random.default_rng(1)
    one = _row(rng, 1.0, [1.0] * 6, reps=1)
    two = _row(rng, 2.0, [1.0] * 6, reps=1)
    v = analysis.verdict(one, two, "k", adjusted=True)
    assert v.repetitions == 1 and v.verdict == "same"  # six passes, still one process a side


def _run_with_passes(directory, control: str | None, phase: float, **kw):
    """A synthetic run whose every repetition is one pass, its control slowed by `phase`."""
    results = make_results(**kw)
    for bench in results["benchmarks"]:
        for rep in bench.get("repetitions") or []:
            if not rep.get("stats"):
                continue  # a failed repetition
            rep["passes"] = [{"rounds": len(rep["stats"]["samples"]), "control_s": 1e-3 * phase}]
    results["calibration"]["control"] = control
    return load_run(write_results(directory, results))


def _run_in_states(directory, rng, controls: list[np.ndarray], rng_seed: int,
                   response: float = 1.75, **kw):
    """A synthetic run of 7 passes of 3 rounds per repetition, each pass timed after the
    control given (one array per repetition); a case takes `response` times its time where that
    control lies in the slow state (above 0.44 ms): 1.75x, as small-op RNN steps did on the
    2-core VM. `kw` go to make_results (`slow`: cases slowed for real)."""
    results = make_results(cnn=False, sweeps=False, repetitions=len(controls),
                           rng_seed=rng_seed, **kw)
    for bench in results["benchmarks"]:
        for rep, rep_controls in zip(bench.get("repetitions") or [], controls, strict=False):
            if not rep.get("stats"):
                continue
            median = rep["stats"]["median"]
            samples = [median * (response if c > 0.44e-3 else 1.0) * (1 + 0.02 * z)
                       for c in rep_controls for z in rng.standard_normal(3)]
            rep["stats"] = {**rep["stats"], "samples": samples, "rounds": len(samples)}
            rep["passes"] = [{"rounds": 3, "control_s": float(c)} for c in rep_controls]
    return load_run(write_results(directory, results))


def test_a_run_wholly_in_a_slow_state_with_a_long_tail_is_not_called_slower(tmp_path,
                                                                          monkeypatch):
    # Measured (smoke, 2 cores): one run 89 % in the slow state, its controls there 0.46-0.60 ms;
    # its own state split cut that state in two (0.51 ms), the two runs' splits averaged
    # (0.47 ms) called most of its slow passes fast, and 9 of 23 unchanged cases were called
    # 1.19-1.65x slower. Judged with the split over both runs' passes too, nothing is called.
    rng = np.random.default_rng(11)

    def controls(states: str) -> list[np.ndarray]:
        """f: fast; m: the slow state's mode; t: its tail; one string per repetition."""
        ranges = {"f": (0.385e-3, 0.405e-3), "m": (0.455e-3, 0.465e-3), "t": (0.50e-3, 0.56e-3)}
        return [np.array([rng.uniform(*ranges[c]) for c in rep]) for rep in states.split()]
    # one slow pass in the first run; 2 fast, 8 mode and 4 tail passes in the second
    mixed = _run_in_states(tmp_path / "a", rng, controls("ffffffm fffffff"), rng_seed=0)
    tail = _run_in_states(tmp_path / "b", rng, controls("fmmmtmt fmmtmtm"), rng_seed=1)
    own = [float(np.exp(run.bench["control_split"].dropna().iloc[0])) for run in (mixed, tail)]
    assert own[0] < 0.44e-3 < 0.46e-3 < own[1]  # the tail run's own split lies in its slow state
    table = matching.pairs([mixed, tail])
    assert len(table) >= 10 and not table["significant"].any()
    # the averaged splits alone (without the fast passes' check either) called them slower
    monkeypatch.setattr(matching, "_either_split", lambda own, pooled: own)
    monkeypatch.setattr(matching, "fast_state", lambda judged, *_: judged)
    assert matching.pairs([mixed, tail])["regression"].sum() >= 3


def test_runs_whose_controls_lie_far_apart_leave_the_pair_undecided(tmp_path, monkeypatch):
    # Measured (smoke, 2 cores, a slow phase of the machine): one run's passes sat at 0.57 and
    # 0.85 ms (two classes of its own) against 0.40-0.62 ms for the others, and 12-13
    # unchanged cases were called different in each of its pairs. The same code here, the
    # other run's passes at 0.52-0.56 ms and, 2 in 7, 0.80-0.88 ms (controls ~1.35x apart):
    # nothing called, every case "apart".
    rng = np.random.default_rng(13)
    base = _run_in_states(tmp_path / "a", rng, _state_controls(rng, "fffffff ffsssff fffssff"),
                          rng_seed=0)
    third = [rng.permutation(np.concatenate([rng.uniform(0.52e-3, 0.56e-3, 5),
                                             rng.uniform(0.80e-3, 0.88e-3, 2)]))
             for _ in range(3)]
    far = _run_in_states(tmp_path / "b", rng, third, rng_seed=1)
    table = matching.pairs([base, far])
    assert len(table) >= 10 and (table["basis"] == "apart").all()
    assert not table["significant"].any() and (table["verdict"] == "same").all()
    out, verdicts = tmp_path / "c.html", tmp_path / "v.json"
    assert write_compare([base.path, far.path], out, json_path=verdicts,
                         fail_on_regression=True) == 0
    assert (f"{len(table)} undecided: the two runs' per-pass controls lie more than 1.24× apart"
            in html.unescape(out.read_text(encoding="utf-8")))
    cases = json.loads(verdicts.read_text(encoding="utf-8"))["runs"][0]["cases"]
    assert {c["basis"] for c in cases} == {"apart"}
    # the state adjustment alone called every one of them different
    monkeypatch.setattr(matching, "CONTROLS_APART", 10.0)
    assert matching.pairs([base, far])["significant"].sum() >= len(table) // 2


def test_runs_whose_controls_lie_close_are_still_judged(tmp_path):
    # the other run wholly in the slow state (controls 1.17x the first's median): judged by
    # the state factor the first run measured, and a case slowed 1.3x is caught
    rng = np.random.default_rng(14)
    base = _run_in_states(tmp_path / "a", rng, _state_controls(rng, "fffffff ffsssff fffssff"),
                          rng_seed=0)
    case = base.bench["name"].iloc[0]
    slow = _run_in_states(tmp_path / "b", rng, _state_controls(rng, "sssssss sssssss sssssss"),
                          rng_seed=1, slow={case: 1.3})
    table = matching.pairs([base, slow])
    assert not (table["basis"] == "apart").any()
    assert list(table.loc[table["significant"], "name"]) == [case]


def _state_controls(rng, states: str) -> list[np.ndarray]:
    """Controls per pass: f fast (0.385-0.405 ms), s slow (0.455-0.475 ms); a word a repetition."""
    ranges = {"f": (0.385e-3, 0.405e-3), "s": (0.455e-3, 0.475e-3)}
    return [np.array([rng.uniform(*ranges[c]) for c in rep]) for rep in states.split()]


@pytest.mark.parametrize("slowed", [False, True])
def test_runs_in_opposite_states_are_judged_over_their_fast_passes(tmp_path, monkeypatch,
                                                                    slowed):
    # Measured (quick power pair, 2 cores): one run 91 % in the slow state, the other 78 % fast,
    # whose few slow passes the case barely felt. The two runs' slow/fast factors disagree
    # (1.75x against 1.1x here), and adjusting by either one gives another verdict, so the
    # state adjustment leaves every case undecided; the passes both runs spent in the fast
    # state (2 against 18) need no factor, and tell a 1.25x slowdown from none.
    rng = np.random.default_rng(12)
    slow_run = _run_in_states(tmp_path / "a", rng, _state_controls(rng, "ffsssss sssssss sssssss"),
                              rng_seed=0)
    case = slow_run.bench["name"].iloc[0]
    fast_run = _run_in_states(tmp_path / "b", rng, _state_controls(rng, "fffffff ffffffs fffffss"),
                              rng_seed=1, response=1.1,
                              slow={case: 1.25} if slowed else None)
    table = matching.pairs([slow_run, fast_run]).set_index("name")
    assert (table["basis"] == "fast").sum() >= len(table) // 2
    assert list(table.index[table["significant"]]) == ([case] if slowed else [])
    if slowed:
        assert table.loc[case, "verdict"] == "regression"
        assert table.loc[case, "ratio"] == pytest.approx(1.25, abs=0.05)
    # compare says how many verdicts the fast passes drew, and --json names their basis
    verdicts = tmp_path / "v.json"
    assert write_compare([slow_run.path, fast_run.path], tmp_path / "c.html",
                         json_path=verdicts, fail_on_regression=True) == int(slowed)
    fast = int((table["basis"] == "fast").sum())
    assert (f"{fast} of the verdicts drawn over only the passes both runs spent in the fast "
            "state of the machine") in (tmp_path / "c.html").read_text(encoding="utf-8")
    cases = json.loads(verdicts.read_text(encoding="utf-8"))["runs"][0]["cases"]
    assert sum(c["basis"] == "fast" for c in cases) == fast
    # without the fast passes those cases stay undecided, the slowed one included
    monkeypatch.setattr(matching, "fast_state", lambda judged, *_: judged)
    table = matching.pairs([slow_run, fast_run])
    assert (table["basis"] == "undecided").sum() >= len(table) // 2
    assert not table["significant"].any()


def _case(rng, level: float, states: list[list[int]]) -> pd.Series:
    return pd.concat([_two_state(rng, level, states, response=1.6),
                      pd.Series({"name": "k", "device": "cpu"})])


def test_a_call_the_fast_passes_place_within_the_factor_is_left_undecided():
    rng = np.random.default_rng(13)
    states = [[0, 0, 1, 1, 1, 1, 1], [1] * 7, [1] * 7]
    base, other = (_case(rng, 1.0, states) for _ in range(2))
    called = {"verdict": "improvement", "significant": True, "regression": False,
              "basis": "adjusted", "ratio": 0.8}
    split = base["control_split"]
    judged = matching.fast_state(called, base, other, split)
    assert (judged["verdict"], judged["basis"], judged["significant"]) == (
        "same", "undecided", False)
    # a call the fast passes confirm stands, and one with too few of them is left as it was
    slower = _case(rng, 1.3, states)
    assert matching.fast_state(called, base, slower, split) is called
    one_fast = _case(rng, 1.0, [[0, 1, 1, 1, 1, 1, 1], [1] * 7])
    assert matching.fast_state(called, base, one_fast, split) is called


@pytest.mark.parametrize("controls,basis", [(("g*t", "g*t"), "adjusted"),
                                            ((None, None), "adjusted"),
                                            (("g*t", None), "passes"),
                                            (("g*t", "g"), "passes")])
def test_runs_divide_by_their_controls_only_when_they_timed_the_same_one(tmp_path, monkeypatch,
                                                                          controls, basis):
    base = _run_with_passes(tmp_path / "a", controls[0], 1.0, cnn=False, sweeps=False)
    # the same code on the same machine, its control 1.5x slower: adjusted, the cases would
    # look 1.5x faster; a control that is not the same must not divide at all
    other = _run_with_passes(tmp_path / "b", controls[1], 1.5, cnn=False, sweeps=False,
                             rng_seed=1)
    if basis == "adjusted":  # controls that far apart leave the pair undecided (see above)
        assert set(matching.pairs([base, other])["basis"]) == {"apart"}
    monkeypatch.setattr(matching, "CONTROLS_APART", 10.0)
    table = matching.pairs([base, other])
    assert len(table) and set(table["basis"]) == {basis}
    assert table["same_hardware"].all()
    expected = "improvement" if basis == "adjusted" else "same"
    assert set(table["verdict"]) == {expected}  # regression | improvement | same words either way
