"""Is dimension matching needed? The report section that states the study's verdict in words.

The numbers (Welch's test, time to target, the per-family comparisons) come from
`reports.study_data`, whose docstring states the method; this module turns each family into a
conclusion, sentences, tables and charts. The verdict is indicative when a variant has one seed
or the runs trained on part of the training set (the `quick` profile); the section then names
the command that gives the real one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from bench.timing import stats
from reports import analysis, anchors, charts, fmt, recipe, tables
from reports.headline import Part, Sentence, interval, names, pass_name
from reports.load import Run
from reports.study_data import (
    ALPHA,
    MIN_SEEDS,
    POWER,
    AccuracyTest,
    Arm,
    Comparison,
    Family,
    TimeToTarget,
    families,
    median_seeds,
    seed_runs,
)
from reports.templating import Chart, svg

COMMAND = "mnistbench run --profile shortcuts"  # the run that gives the real verdict
MATCHING = analysis.COMPARED_SHORTCUT  # the mode that matches dimensions with parameters


# ---- in words ----------------------------------------------------------------------------------

def _p(*parts: str | tuple[str]) -> Sentence:
    """Plain strings are plain text; 1-tuples are emphasised (as in reports.headline)."""
    return tuple(Part(p[0], True) if isinstance(p, tuple) else Part(p) for p in parts)


def _points(value: float) -> str:
    return f"{value * 100:.2f}"


def seeds_text(test: AccuracyTest) -> str:
    """'5 seeds', or '5 and 4 seeds' when the sides differ."""
    if test.n_mode == test.n_base:
        return f"{test.n_mode} seed" + ("s" if test.n_mode != 1 else "")
    return f"{test.n_mode} and {test.n_base} seeds"


def target_text(target: float | None) -> str:
    """0.99 -> '99 %'."""
    return "the target" if target is None else f"{target * 100:g} %"


def step_words(v: stats.Verdict | None) -> tuple:
    """'costs +12.0 % time per train step (1.12×, 95 % interval …: a real difference …)'."""
    if v is None:
        return ("has no timed train step to set against it",)
    change = v.ratio - 1
    amount = fmt.percent(abs(change), signed=change >= 0)
    how = f"{fmt.ratio(v.ratio)}, {interval(v)}"
    if v.repetitions < stats.MIN_REPETITIONS:
        why = "too few repetitions to call any difference"
    elif v.different:
        why = f"a real difference: the whole interval lies beyond {fmt.ratio(v.factor)}"
    else:
        why = f"within the noise: the interval does not clear {fmt.ratio(v.factor)}"
    return ("costs " if change >= 0 else "saves ",
            (f"{amount} time per {pass_name('train_step')}",), f" ({how}; {why})")


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def accuracy_words(test: AccuracyTest | None) -> tuple:
    """'changes accuracy by +0.05 ± 0.08 points (Welch's t-test, p = 0.55: not significant at 5
    seeds; this setup would detect a difference of about 0.26 points)'."""
    if test is None:
        return ("its test accuracy was not measured against the baseline's",)
    if not test.tested:
        why = ("one seed, so the seed-to-seed spread is unknown: no test is possible and this "
               "difference may be noise" if min(test.n_mode, test.n_base) < MIN_SEEDS
               else "every seed gave the same accuracy: no spread to test against")
        return ("changes accuracy by ", (fmt.points(test.delta),), f" ({why})")
    verdict = "significant" if test.significant else "not significant"
    return ("changes accuracy by ", (f"{test.delta * 100:+.2f} ± {_points(test.se)} points",),
            f" (Welch's t-test, {p_text(test.p)}: ", (verdict,),
            f" at {seeds_text(test)}; this setup would detect a difference of about "
            f"{_points(test.mdd)} points)")


def ttt_text(ttt: TimeToTarget) -> str:
    """'median 2.57 s (3 of 5 seeds reached it)', 'not reached (2 of 5 seeds reached it)'."""
    if not ttt.seeds:
        return "not trained"
    seeds = f"{ttt.reached} of {ttt.seeds} seed" + ("s" if ttt.seeds != 1 else "")
    median = "not reached" if math.isinf(ttt.median) else f"median {fmt.duration(ttt.median)}"
    return f"{median} ({seeds} reached it)"


def comparison_sentence(f: Family, c: Comparison) -> Sentence:
    """One mode against the baseline: time per step, accuracy with its test, time to target."""
    ttt = "" if f.base is None or not (c.arm.seeds or f.base.seeds) else (
        f" Time to {target_text(_target(f))}: {c.arm.shortcut} {ttt_text(c.arm.ttt)}; "
        f"{f.baseline} {ttt_text(f.base.ttt)}.")
    return _p((c.arm.shortcut,), " against ", (f.baseline,), " ", *step_words(c.step), " and ",
              *accuracy_words(c.accuracy), "." + ttt)


def _target(f: Family) -> float | None:
    return next((a.target for a in _arms(f) if a.target is not None), None)


def _cost(v: stats.Verdict | None) -> str:
    if v is None or v.repetitions < stats.MIN_REPETITIONS:
        return ""
    change = v.ratio - 1
    if v.different:
        return (f"; it costs {fmt.percent(change, signed=True)}" if change > 0
                else f"; it saves {fmt.percent(-change)}") + " time per train step"
    return f"; its time per train step is within the noise ({fmt.ratio(v.ratio)})"


def _answer(f: Family, test: AccuracyTest | None) -> tuple:
    """Whether the matching mode's accuracy differs from the baseline's, with its test."""
    if test is None or not test.tested:
        why = "test accuracy was not measured on both" if test is None else (
            "one seed a side, so the seed-to-seed spread is unknown"
            if min(test.n_mode, test.n_base) < MIN_SEEDS else "the seeds show no spread")
        return (f"this run cannot tell whether dimension matching pays ({why})",)
    stat = f"{p_text(test.p)} at {seeds_text(test)}"
    if test.significant:
        better = test.delta > 0
        return ("dimension matching ", ("pays" if better else "does not pay",),
                f" here: {MATCHING} shortcuts are ",
                ("more accurate" if better else "less accurate",),
                f" than {f.baseline} by {fmt.points(abs(test.delta))[1:]} ({stat})")
    return (("no evidence that dimension matching is needed",),
            f": {MATCHING} shortcuts are as accurate as {f.baseline} within the noise "
            f"({test.delta * 100:+.2f} ± {_points(test.se)} points, {stat}; a difference below "
            f"about {_points(test.mdd)} points cannot be ruled out)")


def _others(f: Family) -> str:
    """The other modes whose accuracy differs significantly from the baseline's."""
    tested = [c for c in f.comparisons
              if c.arm.shortcut != MATCHING and c.accuracy is not None and c.accuracy.tested]
    if not tested:
        return ""
    found = [f"{f.family}/{c.arm.shortcut} is {'more' if c.accuracy.delta > 0 else 'less'} "
             f"accurate than {f.baseline} ({fmt.points(c.accuracy.delta)}, "
             f"{p_text(c.accuracy.p)})" for c in tested if c.accuracy.significant]
    if not found:
        return (f" No other mode ({names([f'{f.family}/{c.arm.shortcut}' for c in tested])}) "
                f"differs from {f.baseline} in accuracy beyond the noise.")
    return " Of the other modes, " + "; ".join(found) + "."


def conclusion(f: Family) -> Sentence:
    """The family's answer: does matching dimensions (projection) pay against the default?"""
    lead = ("Indicative only — " if f.indicative else "", (f"{f.family} on {f.device}",), ": ")
    if f.base is None:
        return _p(*lead, f"the paper default {f.baseline} was neither trained nor timed in this "
                  "run, so no shortcut mode can be measured against it.")
    c = next((c for c in f.comparisons if c.arm.shortcut == MATCHING), None)
    if c is None:
        return _p(*lead, f"{MATCHING} shortcuts were not measured, so this run cannot say "
                  "whether matching dimensions pays.")
    ttt = "" if not (c.arm.seeds and f.base.seeds) else (
        f"; time to {target_text(_target(f))}: {MATCHING} {ttt_text(c.arm.ttt)}, "
        f"{f.baseline} {ttt_text(f.base.ttt)}")
    return _p(*lead, *_answer(f, c.accuracy), _cost(c.step) + ttt + ".", _others(f))


# ---- the report section -------------------------------------------------------------------------

def _versus(v: stats.Verdict | None) -> str:
    if v is None:
        return fmt.DASH
    word = ("undecided" if v.repetitions < stats.MIN_REPETITIONS
            else v.verdict if v.different else "same")
    return f"{fmt.ratio(v.ratio)} [{fmt.ratio(v.low)[:-1]}–{fmt.ratio(v.high)}] {word}"


def _ttt_cells(ttt: TimeToTarget) -> list[str]:
    def seconds(value: float | None) -> str:
        return fmt.DASH if value is None else "not reached" if math.isinf(value) \
            else fmt.duration(value)

    low_high = ttt.range
    spread = "" if low_high is None else fmt.durations(list(low_high)).replace(", ", "–") + " "
    return [seconds(ttt.median if ttt.seeds else None), seconds(ttt.olympic),
            f"{spread}({ttt.reached} of {ttt.seeds})"]


def _test_cells(test: AccuracyTest | None) -> list[str]:
    if test is None:
        return [fmt.DASH] * 4
    if not test.tested:
        why = "spread unknown (1 seed)" if min(test.n_mode, test.n_base) < MIN_SEEDS \
            else "no spread"
        return [f"{test.delta * 100:+.2f}", fmt.DASH, fmt.DASH, why]
    return [f"{test.delta * 100:+.2f} ± {_points(test.se)}",
            "< 0.001" if test.p < 0.001 else f"{test.p:.2g}", _points(test.mdd),
            "significant" if test.significant else "not significant"]


def time_table(f: Family) -> tables.Table:
    """Time per train step and time to target, one row per mode, the paper default first."""
    spec = [("Shortcut", False), ("Train step, median", True),
            ("vs default [95 % interval]", True),
            (f"Time to {target_text(_target(f))}, median", True), ("Olympic mean", True),
            ("Range (seeds reached)", True)]
    rows = [] if f.base is None else [[f"{f.baseline} (default)",
                                       fmt.duration(f.base.step_median), fmt.DASH,
                                       *_ttt_cells(f.base.ttt)]]
    rows += [[c.arm.shortcut, fmt.duration(c.arm.step_median), _versus(c.step),
              *_ttt_cells(c.arm.ttt)] for c in f.comparisons]
    return tables.make_table(spec, rows)


def accuracy_table(f: Family) -> tables.Table:
    """Final test accuracy over seeds and its test against the paper default, one row per mode."""
    spec = [("Shortcut", False), ("Test accuracy, mean ± sd", True),
            ("Δ vs default, points ± SE", True), ("Welch p", True),
            (f"Detectable Δ ({POWER * 100:g} % power)", True), ("Verdict", False)]
    rows = [] if f.base is None else [[f"{f.baseline} (default)", _acc(f.base)]
                                      + [fmt.DASH] * 4]
    rows += [[c.arm.shortcut, _acc(c.arm), *_test_cells(c.accuracy)] for c in f.comparisons]
    return tables.make_table(spec, rows)


def _arms(f: Family) -> list[Arm]:
    return ([f.base] if f.base else []) + [c.arm for c in f.comparisons]


def _acc(arm: Arm) -> str:
    return fmt.accuracy_spread(arm.acc_mean, arm.acc_sd, arm.seeds) if arm.seeds else fmt.DASH


def indicative_text(fams: list[Family]) -> str:
    """Why the verdicts are only indicative, and the command that gives the real one ('' when
    every family's evidence is the study's)."""
    reasons = list(dict.fromkeys(r for f in fams for r in f.indicative))
    if not reasons:
        return ""
    return (f"This run's evidence is thin ({'; '.join(reasons)}), so every verdict below is "
            f"indicative, not a finding. The real verdict comes from the study: {COMMAND} "
            "(every CNN variant trained to 99 % with 5 seeds on full MNIST, and its train step "
            "timed).")


def method_text() -> str:
    factor = fmt.ratio(stats.FACTOR)
    return (f"Each shortcut mode against its family's paper default. Time per train step: ratio of "
            f"medians with its {round(stats.CONFIDENCE * 100)} % hierarchical-bootstrap interval, "
            f"a real difference only when the whole interval lies beyond {factor}. Time to "
            "target, MLPerf style: a seed that never reached it counts as slowest; median over "
            "all seeds, olympic mean without the fastest and slowest seed (not reached when a "
            "seed that missed is left in it), range over the seeds that reached it. Test "
            "accuracy: the final (or stopping) accuracy, mean ± sd over seeds. Δ: the difference "
            "of means ± its standard error; Welch's two-sided t-test at alpha "
            f"{ALPHA:g}; detectable Δ: the smallest true difference this many seeds with this "
            f"spread would call significant with {POWER * 100:g} % power, "
            f"(t[1−alpha/2, df] + t[{POWER:g}, df]) × SE — a 'not significant' verdict cannot "
            "rule out a difference below it. Each mode is tested on its own, with no correction "
            "for the several modes of a family: a p just under alpha is weak evidence.")


@dataclass(frozen=True)
class Block:
    """One family on one device, as the report shows it."""

    title: str
    anchor: str
    conclusion: Sentence
    sentences: tuple[Sentence, ...]
    tables: tuple[tables.Table, ...]
    context: anchors.Anchor | None
    charts: tuple[Chart, ...]
    recipe: str = ""  # how the family's runs were trained (reports.recipe); '' in older files


@dataclass(frozen=True)
class Section:
    blocks: tuple[Block, ...]
    indicative: str  # '' unless the evidence is thin (one seed, short training)
    method: str
    empty: str = (f"No CNN variant was trained or timed in this run; {COMMAND} runs the "
                  "dimension-matching study.")


def section(run: Run, colors: dict[str, str], salt: str) -> Section:
    """Everything the report's "Is dimension matching needed?" section shows."""
    fams = families(run)
    runs = seed_runs(run)
    runs = runs.assign(median_seed=median_seeds(runs) if len(runs) else [])
    blocks = tuple(_block(f, runs[(runs["device"] == f.device) & (runs["family"] == f.family)],
                          colors, f"{salt}-{f.device}-{f.family}") for f in fams)
    return Section(blocks, indicative_text(fams), method_text())


def _block(f: Family, runs: pd.DataFrame, colors: dict[str, str], salt: str) -> Block:
    return Block(f"{f.family} on {f.device}", charts.strip_id(f"study-{f.device}-{f.family}"),
                 conclusion(f), tuple(comparison_sentence(f, c) for c in f.comparisons),
                 (time_table(f), accuracy_table(f)), anchors.FAMILY_CONTEXT.get(f.family),
                 _charts(f, runs, colors, salt), recipe.recipe_text(runs["options"]))


def _charts(f: Family, runs: pd.DataFrame, colors: dict[str, str], salt: str) -> tuple:
    arms = [a for a in _arms(f) if a.seeds]
    target = next((a.target for a in arms if a.target is not None), None)
    out = []
    drawn = runs[runs["curve"].map(bool)]
    if len(drawn):
        title = f"{f.family} on {f.device}: test accuracy against training time"
        panels = [a.shortcut for a in arms if a.shortcut in set(drawn["shortcut"])]
        one_point = drawn["curve"].map(len).max() == 1
        out.append(Chart(title, svg(charts.seed_curves_chart(
            drawn.assign(panel=drawn["shortcut"]), panels, target, title, colors,
            salt + "-curves")),
            ("One evaluation per run, so each seed is a single dot. " if one_point else
             "One line per seed, an evaluation of the whole test set at each point (its time "
             "kept off the clock). ") + "Bold: the median seed (by time to "
            f"{target_text(target)}, then accuracy); dashed: the target."))
    if any(a.ttt.reached for a in arms):
        title = f"{f.family} on {f.device}: time to {target_text(target)} per seed"
        rows = pd.DataFrame({"name": [a.shortcut for a in arms],
                             "label": [f"{f.family}/{a.shortcut}" for a in arms],
                             "times": [a.ttt.times for a in arms],
                             "median": [a.ttt.median for a in arms]})
        out.append(Chart(title, svg(charts.time_to_target_chart(
            rows, target_text(target), title, colors, salt + "-ttt")),
            "A point per seed that reached the target; bar: the median over all seeds, a seed "
            "that missed counting as slowest (no bar when half or more missed)."))
    return tuple(out)
