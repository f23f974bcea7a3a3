"""reports.study: the dimension-matching verdict's statistics and words, on SYNTHETIC runs.

The accuracies and times here are made up so the tests know the answer: the Welch numbers are
checked against a hand computation (and scipy's own ttest_ind), the minimum detectable difference
against its formula with tabulated t quantiles.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bench.store import schema
from reports import fmt, study, study_data
from reports.headline import plain
from reports.load import load_run
from tests import report_samples as rs

# Per variant, per seed: the final test accuracy. resnet/projection is clearly more accurate than
# zeropad (every seed above every zeropad seed); mobilenetv2/projection is not told from paper.
CLEAR = {("resnet", "projection"): (0.9930, 0.9932, 0.9934, 0.9931, 0.9933),
         ("resnet", "zeropad"): (0.9900, 0.9902, 0.9898, 0.9901, 0.9899),
         ("resnet", "none"): (0.9905, 0.9895, 0.9900, 0.9910, 0.9890),
         ("mobilenetv2", "paper"): (0.9910, 0.9915, 0.9905, 0.9912, 0.9908),
         ("mobilenetv2", "projection"): (0.9912, 0.9906, 0.9914, 0.9904, 0.9911)}
TARGET = 0.99


def _curve(final: float, seed: int) -> list[schema.CurvePoint]:
    """Four quarter-epoch points climbing to `final`; seed k is k * 0.1 s slower."""
    accs = (final - 0.03, final - 0.01, final - 0.004, final)
    return [schema.CurvePoint(15000 * (i + 1), 0.25 * (i + 1), (i + 1) * 1.0 + 0.1 * seed, acc,
                              0.1) for i, acc in enumerate(accs)]


def training_entry(family: str, shortcut: str, seed: int, final: float,
                   train_images: int = 60000, device: str = "cpu") -> dict:
    curve = _curve(final, seed)
    reached = [p.time_s for p in curve if p.test_acc >= TARGET]
    return schema.Training(
        name=f"train/{family}/{shortcut}/seed{seed}", model=family, variant=shortcut,
        device=device, seed=seed, status="ok", error=None, params_count=1000, flops=1e6,
        epochs=[schema.Epoch(1, curve[-1].time_s, 0.1, final)],
        time_to_target_s=reached[0] if reached else None, target_acc=TARGET,
        train_images=train_images, test_images=10000, images_per_s=1000.0, curve=curve,
        reached_target=bool(reached)).as_dict()


def make_study(accs: dict = CLEAR, seeds: int | None = None, train_images: int = 60000,
               drop: tuple[tuple[str, str], ...] = ()) -> dict:
    """A synthetic results dict: report_samples' CNN cases plus these training runs; `drop`
    removes variants from both (a missing baseline)."""
    results = rs.make_results(sweeps=False, failures=False, training=False, styles=("native",))
    results["training"] = [training_entry(f, s, k, acc, train_images)
                           for (f, s), values in accs.items() if (f, s) not in drop
                           for k, acc in enumerate(values[:seeds])]
    results["benchmarks"] = [c for c in results["benchmarks"]
                             if (c["params"].get("family"), c["params"].get("shortcut"))
                             not in drop]
    return results


def families(tmp_path: Path, results: dict) -> dict[str, study_data.Family]:
    run = load_run(rs.write_results(tmp_path, results))
    return {f.family: f for f in study_data.families(run)}


def comparison(family: study_data.Family, shortcut: str) -> study_data.Comparison:
    return next(c for c in family.comparisons if c.arm.shortcut == shortcut)


# ---- statistics ----------------------------------------------------------------------------

def test_welch_matches_a_hand_computation():
    base, mode = [0.990, 0.991, 0.992], [0.993, 0.995, 0.997, 0.999]
    test = study_data.welch(statistics.mean(mode), statistics.stdev(mode), 4,
                       statistics.mean(base), statistics.stdev(base), 3)
    # By hand: var(base) = 1e-6 -> /3; var(mode) = 20e-6 / 3 -> /4; SE = sqrt(2e-6);
    # df = (2e-6)^2 / ((1e-6/3)^2 / 2 + (5e-6/3)^2 / 3) = 4e-12 / 9.8148e-13 = 4.0755.
    assert test.delta == pytest.approx(0.005)
    assert test.se == pytest.approx(math.sqrt(2e-6))
    assert test.t == pytest.approx(3.5355339, rel=1e-6)
    assert test.df == pytest.approx(4.0754717, rel=1e-6)
    reference = scipy_stats.ttest_ind(mode, base, equal_var=False)
    assert test.t == pytest.approx(reference.statistic)
    assert test.p == pytest.approx(reference.pvalue)
    assert 0.02 < test.p < 0.03 and test.significant


def test_minimum_detectable_difference_formula():
    # n = 5 a side, equal sd: df = 8 exactly; t(0.975, 8) = 2.306004, t(0.80, 8) = 0.888890.
    sd = 0.001
    test = study_data.welch(0.991, sd, 5, 0.990, sd, 5)
    se = sd * math.sqrt(2 / 5)
    assert test.df == pytest.approx(8.0)
    assert test.mdd == pytest.approx((2.306004 + 0.888890) * se, rel=1e-5)
    # Four times the seeds halve the standard error: the setup detects about half the difference.
    more = study_data.welch(0.991, sd, 20, 0.990, sd, 20)
    assert more.mdd < 0.55 * test.mdd


def test_a_difference_the_size_of_the_mdd_is_found_about_80_percent_of_the_time():
    rng = np.random.default_rng(0)
    sd, n = 0.001, 5
    mdd = study_data.welch(0.0, sd, n, 0.0, sd, n).mdd
    hits = sum(scipy_stats.ttest_ind(rng.normal(mdd, sd, n), rng.normal(0, sd, n),
                                     equal_var=False).pvalue < 0.05 for _ in range(2000))
    assert 0.72 < hits / 2000 < 0.86  # the t approximation of Welch's power


def test_one_seed_or_no_spread_is_not_tested():
    one = study_data.welch(0.991, float("nan"), 1, 0.990, 0.001, 5)
    assert not one.tested and not one.significant and one.se is None and one.mdd is None
    assert one.delta == pytest.approx(0.001)
    same = study_data.welch(0.990, 0.0, 3, 0.990, 0.0, 3)
    assert not same.tested


def test_time_to_target_is_aggregated_the_mlperf_way():
    ttt = study_data.TimeToTarget((3.0, 1.0, 10.0, math.inf, 2.0))
    assert (ttt.seeds, ttt.reached) == (5, 4)
    assert ttt.median == 3.0  # the seed that missed counts as the slowest
    assert ttt.olympic == pytest.approx(5.0)  # (2 + 3 + 10) / 3: fastest and slowest dropped
    assert ttt.range == (1.0, 10.0)
    two_missed = study_data.TimeToTarget((1.0, 2.0, math.inf, math.inf))
    assert math.isinf(two_missed.median) and math.isinf(two_missed.olympic)
    assert study_data.TimeToTarget((1.0, 2.0)).olympic is None
    assert study_data.TimeToTarget((math.inf,)).range is None


# ---- the study of a run ----------------------------------------------------------------------

def test_families_compare_every_mode_with_the_registry_default(tmp_path):
    fams = families(tmp_path, make_study())
    assert (fams["resnet"].baseline, fams["mobilenetv2"].baseline) == ("zeropad", "paper")
    assert [c.arm.shortcut for c in fams["resnet"].comparisons] == ["projection", "none",
                                                                     "plain"]
    assert not fams["resnet"].indicative and not fams["mobilenetv2"].indicative


def test_accuracy_test_uses_the_seeds_final_accuracies(tmp_path):
    fams = families(tmp_path, make_study())
    proj = comparison(fams["resnet"], "projection")
    mode, base = CLEAR[("resnet", "projection")], CLEAR[("resnet", "zeropad")]
    reference = scipy_stats.ttest_ind(mode, base, equal_var=False)
    assert proj.accuracy.delta == pytest.approx(statistics.mean(mode) - statistics.mean(base))
    assert proj.accuracy.p == pytest.approx(reference.pvalue)
    assert proj.accuracy.significant
    assert proj.arm.acc_sd == pytest.approx(statistics.stdev(mode))
    assert not comparison(fams["mobilenetv2"], "projection").accuracy.significant


def test_step_verdict_is_the_bootstrap_rule_on_the_train_step_cases(tmp_path):
    results = make_study()
    fams = families(tmp_path, results)
    proj = comparison(fams["resnet"], "projection")

    def median(name):
        return next(c["stats"]["median"] for c in results["benchmarks"] if c["name"] == name)

    ratio = median("cnn/resnet/projection/train_step/b64") / \
        median("cnn/resnet/zeropad/train_step/b64")
    assert proj.step.ratio == pytest.approx(ratio)
    assert proj.step.verdict == "slower" and proj.batch == 64  # 1.25x by construction
    mobile = comparison(fams["mobilenetv2"], "projection").step
    assert mobile.verdict == "same"  # 13/12 = 1.08x: inside the 1.1x a difference must clear


def test_time_to_target_from_the_records(tmp_path):
    fams = families(tmp_path, make_study())
    none = comparison(fams["resnet"], "none").arm.ttt
    # seeds at 0.9905, 0.9895, 0.9900, 0.9910, 0.9890: three reach 99 % at the last point
    # (4 s + 0.1 s per seed); the other two never do.
    assert none.reached == 3 and none.seeds == 5
    assert none.median == pytest.approx(4.3)  # sorted: 4.0, 4.2, 4.3, inf, inf
    assert none.range == (pytest.approx(4.0), pytest.approx(4.3))
    assert math.isinf(none.olympic)


def test_median_seed_is_the_middle_time_to_target(tmp_path):
    run = load_run(rs.write_results(tmp_path, make_study()))
    runs = study_data.seed_runs(run)
    picked = runs[study_data.median_seeds(runs)]
    assert len(picked) == len(CLEAR)  # one per variant
    none = picked[(picked["family"] == "resnet") & (picked["shortcut"] == "none")]
    assert none["seed"].tolist() == [3]  # times 4.0 (seed 0), 4.2 (2), 4.3 (3), then misses


# ---- in words ----------------------------------------------------------------------------------

def test_significant_difference_in_words(tmp_path):
    fam = families(tmp_path, make_study())["resnet"]
    proj = comparison(fam, "projection")
    text = plain(study.comparison_sentence(fam, proj))
    assert "projection against zeropad costs " + fmt.percent(proj.step.ratio - 1, signed=True) \
        + " time per train step" in text
    assert f"{proj.accuracy.delta * 100:+.2f} ± {proj.accuracy.se * 100:.2f} points" in text
    assert ": significant at 5 seeds" in text and "not significant" not in text
    verdict = plain(study.conclusion(fam))
    assert "dimension matching pays" in verdict and "more accurate than zeropad" in verdict


def test_no_difference_in_words_states_what_would_have_been_detected(tmp_path):
    fam = families(tmp_path, make_study())["mobilenetv2"]
    test = comparison(fam, "projection").accuracy
    text = plain(study.comparison_sentence(fam, comparison(fam, "projection")))
    assert ": not significant at 5 seeds" in text
    assert f"would detect a difference of about {test.mdd * 100:.2f} points" in text
    verdict = plain(study.conclusion(fam))
    assert verdict.startswith("mobilenetv2 on cpu: no evidence that dimension matching is needed")
    assert f"below about {test.mdd * 100:.2f} points cannot be ruled out" in verdict


def test_one_seed_says_spread_unknown_and_is_indicative(tmp_path):
    fams = families(tmp_path, make_study(seeds=1, train_images=16384))
    fam = fams["resnet"]
    assert fam.indicative == ("one seed per variant",
                              "short training on 16,384 of the 60,000 training images")
    text = plain(study.comparison_sentence(fam, comparison(fam, "projection")))
    assert "spread is unknown" in text and "significant" not in text
    assert plain(study.conclusion(fam)).startswith("Indicative only — resnet on cpu: this run "
                                                   "cannot tell")
    note = study.indicative_text(list(fams.values()))
    assert "indicative" in note and study.COMMAND in note
    assert study.indicative_text([dataclasses.replace(fam, indicative=())]) == ""


def test_missing_baseline_is_said_not_guessed(tmp_path):
    fams = families(tmp_path, make_study(drop=(("resnet", "zeropad"),)))
    fam = fams["resnet"]
    assert fam.base is None
    assert all(c.step is None and c.accuracy is None for c in fam.comparisons)
    assert "paper default zeropad was neither trained nor timed" in plain(study.conclusion(fam))
    table = study.accuracy_table(fam)
    assert [r[0] for r in table.rows] == ["projection", "none", "plain"]  # plain: timed only
    assert table.rows[0][2] == fmt.DASH


def test_tables_carry_the_computed_numbers(tmp_path):
    fam = families(tmp_path, make_study())["resnet"]
    proj = comparison(fam, "projection")
    acc = study.accuracy_table(fam)
    assert acc.rows[0][0] == "zeropad (default)"
    row = acc.rows[1]
    assert row[2] == f"{proj.accuracy.delta * 100:+.2f} ± {proj.accuracy.se * 100:.2f}"
    assert row[4] == f"{proj.accuracy.mdd * 100:.2f}" and row[5] == "significant"
    times = study.time_table(fam)
    assert times.columns[3] == "Time to 99 %, median"
    assert times.rows[2][5] == "4.00–4.30 s (3 of 5)"  # resnet/none
