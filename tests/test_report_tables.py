"""Formatting, analysis and table building of the report, with literal numbers."""

from __future__ import annotations

import dataclasses
import math

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

from reports import analysis, charts, fmt, headline, ranking, tables
from reports.load import bench_frame, load_run, training_frame
from tests import report_samples as rs


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0123, "12.3 ms"), (4.5e-6, "4.50 µs"), (75.2, "75.2 s"), (1.0, "1.00 s"),
    (0.000999, "999 µs"), (0.001, "1.00 ms"), (123.456, "123 s"), (None, "—"),
    (float("nan"), "—")])
def test_duration_picks_a_unit(seconds, text):
    assert fmt.duration(seconds) == text


def test_other_formats_carry_units():
    assert fmt.ratio(3.456) == "3.46×"
    assert fmt.ratio_interval(1.123, 1.456) == "[1.12–1.46×]" and fmt.run_label(0) == "Run 1"
    assert fmt.percent(0.1234, signed=True) == "+12.3 %"
    assert fmt.accuracy(0.99123) == "99.12 %"
    assert fmt.accuracy_spread(0.99123, 0.0005, 3) == "99.12 % ± 0.05 (3 seeds)"
    assert fmt.accuracy_spread(0.99123, float("nan"), 1) == "99.12 % (1 seed)"
    assert fmt.points(0.0012) == "+0.12 points"
    assert fmt.count(11173962) == "11.2 M" and fmt.count(950) == "950"
    assert fmt.flops(5.6e8) == "560 MFLOP"
    assert fmt.duration_spread(0.012, 0.0004) == "12.0 ms (IQR 400 µs)"
    assert fmt.text(pd.NA) == "—" and fmt.text(True) == "yes"
    assert fmt.durations([0.00102, 0.00099]) == "1.02, 0.990 ms"
    assert fmt.gflops(15.99) == "16.0 GFLOP/s" and fmt.gflops(None) == "—"


def test_linear_fit_recovers_an_exact_line():
    x = np.array([7.0, 14.0, 28.0, 56.0])
    slope, intercept, r2 = analysis.linear_fit(x, 2e-5 + 3e-6 * x)
    assert slope == pytest.approx(3e-6) and intercept == pytest.approx(2e-5)
    assert r2 == pytest.approx(1.0)
    _, _, r2_curved = analysis.linear_fit(x, x ** 3)
    assert r2_curved < 0.99
    assert all(math.isnan(v) for v in analysis.linear_fit(np.array([1.0]), np.array([2.0])))


def test_pareto_front_keeps_only_undominated_points():
    times = np.array([1.0, 2.0, 3.0, 2.5, np.nan])
    accs = np.array([0.97, 0.99, 0.995, 0.98, 0.999])
    assert analysis.pareto_front(times, accs).tolist() == [True, True, True, False, False]


def _bench(**kwargs) -> pd.DataFrame:
    return bench_frame(rs.make_results(**kwargs)["benchmarks"])


def test_speedup_vs_native_is_a_ratio_of_medians():
    bench = analysis.with_speedup(analysis.ok_cases(_bench(), "rnn"))
    row = bench[(bench["implementation"] == "loop") & (bench["pass"] == "forward")].iloc[0]
    native = bench[(bench["implementation"] == "native") & (bench["pass"] == "forward")].iloc[0]
    assert row["speedup_native"] == pytest.approx(native["median"] / row["median"])
    assert native["speedup_native"] == pytest.approx(1.0)


def test_rnn_headline_per_device_and_pass():
    heads = ranking.rnn_headlines(_bench())
    assert [(h.device, h.pass_) for h in heads] == [("cpu", "forward"),
                                                      ("cpu", "forward_backward")]
    assert all(h.fastest == "compile" and h.slowest == "bmm" for h in heads)
    assert all(h.clear_winner and h.runner_up == "native" and h.decided for h in heads)
    assert heads[0].lead.ratio == pytest.approx(1.25, rel=0.05)
    assert heads[0].lead.low > 1.1 and heads[0].leaders == ("compile",)
    assert heads[0].noisy  # bmm, the slowest, is drawn with a 30 % spread
    assert "Noisy timings" in headline.plain(headline.rnn_sentence(heads[0]))
    quiet = ranking.rnn_headlines(_bench(noisy_style=None))[0]
    assert not quiet.noisy and "Noisy" not in headline.plain(headline.rnn_sentence(quiet))
    no_native = ranking.rnn_headlines(_bench(styles=("loop", "premul")))[0]
    assert no_native.native is None
    assert "native was not measured" in headline.plain(headline.rnn_sentence(no_native))


def test_tied_leaders_and_a_clear_winner():
    tied = ranking.rnn_headlines(_bench(medians={"premul": 0.82e-3}, sweeps=False, cnn=False))
    assert not tied[0].clear_winner and set(tied[0].leaders) == {"compile", "premul"}
    assert tied[0].lead.verdict == "same" and tied[0].lead.low < 1.1
    # native is 1.25x the fastest: outside the tie, and said to be slower beyond the noise
    text = headline.plain(headline.rnn_sentence(tied[0]))
    assert "are tied within the noise" in text and "faster than native" in text
    assert "adjusted for the control" not in text  # premul's adjusted ratio is above 1 too
    # pooled medians and the control-adjusted ratio may disagree on who is ahead: say so
    ahead = dataclasses.replace(tied[0], lead=dataclasses.replace(tied[0].lead, ratio=0.95,
                                                                   low=0.90, high=0.99))
    text = headline.plain(headline.rnn_sentence(ahead))
    assert "premul takes 0.950× the time of compile" in text
    assert "compile has the lower median" in text
    assert "adjusted for the control timed before each pass, premul's is the lower" in text


def test_ranking_gives_each_style_its_verdict_against_the_fastest():
    ranked = ranking.rankings(_bench(sweeps=False, cnn=False))
    forward = ranked[ranked["pass"] == "forward"].set_index("implementation")
    assert forward.loc["compile", "vs_verdict"] == "fastest"
    assert (forward.drop("compile")["vs_verdict"] == "slower").all()
    assert forward.loc["loop", "vs_fastest"] == pytest.approx(3.75, rel=0.05)
    assert tables.versus_text(forward.loc["native"]).startswith("1.2")
    assert "slower [" in tables.versus_text(forward.loc["native"])


def test_version_1_fixture_loads_as_one_repetition_per_case():
    run = load_run(rs.V1_FIXTURE)
    ok = analysis.ok_cases(run.bench)
    assert run.schema_version == 1 and run.calibration is None and len(ok) > 40
    assert (ok["rep_medians"].map(len) == 1).all()
    assert (ok["rep_medians"].map(lambda m: m[0]) == ok["median"]).all()
    ranked = ranking.rankings(run.bench)
    assert not ranked["decided"].all() and set(ranked["vs_verdict"]) == {"fastest", "same"}
    assert analysis.sweep_groups(run.bench)[0] == "rnn-seq_len"


def test_load_keeps_repetitions_groups_and_flops():
    results = rs.make_results(unstable_style="loop", cnn=False)
    bench = bench_frame(results["benchmarks"])
    case = bench.set_index("name").loc[rs.rnn_name("loop", rs.rnn_params("forward"))]
    assert len(case["rep_medians"]) == 3 and len(case["rep_samples"]) == 3
    assert len(case["rep_samples"][0]) == 20 and case["unstable"]
    assert case["groups"] == ["rnn", "rnn-seq_len", "rnn-hidden_size", "rnn-batch"]
    assert case["gflops"] == pytest.approx(case["flops"] / case["median"] / 1e9)
    # one record, shown in every group it belongs to
    assert rs.rnn_name("loop", rs.rnn_params("forward")) in set(
        analysis.ok_cases(bench, "rnn-seq_len")["name"])


def test_peak_fraction_uses_the_devices_calibration():
    cases = pd.DataFrame({"device": ["cpu", "cuda"], "gflops": [10.0, 500.0]})
    gpu = {"device": "cuda", "gemm_gflops": 1000.0, "host_gemm_gflops": 50.0}
    assert analysis.peak_fraction(cases, gpu).tolist() == [0.2, 0.5]
    cpu = {"device": "cpu", "gemm_gflops": 100.0, "host_gemm_gflops": None}
    assert analysis.peak_fraction(cases, cpu).iloc[0] == 0.1
    assert analysis.peak_fraction(cases, cpu).iloc[1] != analysis.peak_fraction(cases, cpu).iloc[1]
    assert analysis.peak_fraction(cases, None).isna().all()


def test_sweep_groups_and_fits():
    bench = _bench()
    assert analysis.sweep_groups(bench) == ["rnn-seq_len", "rnn-batch", "rnn-hidden_size"]
    assert analysis.sweep_param("rnn-hidden_size") == "hidden_size"
    fits = analysis.sweep_fits(bench, "rnn-seq_len")
    assert set(fits["implementation"]) == {"loop", "native", "bmm"}
    assert (fits["r2"] > 0.99).all() and (fits["points"] == len(rs.SEQ_LENS)).all()


def _verdicts(seeds, acc_shift=0.0):
    results = rs.make_results(seeds=seeds, sweeps=False)
    for entry in results["training"]:
        if entry["variant"] == "projection":
            for epoch in entry["epochs"]:
                epoch["test_acc"] += acc_shift
    summary = analysis.cnn_summary(bench_frame(results["benchmarks"]),
                                   training_frame(results["training"]))
    return {v.family: v for v in analysis.cnn_verdicts(summary)}


def test_cnn_verdict_cost_gain_and_spread():
    v = _verdicts((0, 1, 2))["resnet"]
    assert (v.compared, v.reference, v.pass_) == ("projection", "zeropad", "train_step")
    assert v.time_change == pytest.approx(0.25, abs=0.03)  # 0.020 vs 0.016 by construction
    assert v.seeds == 3 and v.spread is not None
    near = _verdicts((0, 1, 2), acc_shift=-0.002)["resnet"]  # projection now ~ zeropad
    assert abs(near.acc_delta) <= near.spread
    assert "within the seed-to-seed spread" in headline.plain(headline.cnn_sentence(near))
    far = _verdicts((0, 1, 2), acc_shift=0.05)["resnet"]
    assert "outside the seed-to-seed spread" in headline.plain(headline.cnn_sentence(far))
    assert _verdicts((0,))["mobilenetv2"].spread is None


def test_markdown_table_escapes_pipes_and_markup():
    table = tables.make_table([("Name", False), ("Time", True)],
                              [["a|b <script>", "1.00 ms"]])
    md = table.to_markdown()
    assert md.splitlines()[1] == "| :--- | ---: |"
    assert "a\\|b &lt;script&gt;" in md and "<script" not in md


def test_failures_table_says_none_when_no_reason():
    failed = pd.DataFrame([{"kind": "benchmark", "name": "x", "device": "cpu",
                            "status": "skipped", "error": None}])
    table = tables.failures_table(failed)
    assert table.rows[0][-1] == "none" and table.flags == ("warn",)


def test_training_summary_over_seeds():
    frame = training_frame(rs.make_results(seeds=(0, 1))["training"])
    summary = analysis.training_summary(frame).set_index("label")
    row = summary.loc["resnet/projection"]
    assert row["seeds"] == 2 and row["acc_sd"] > 0 and row["epochs"] == 3
    assert summary.loc["resnet/plain", "reached"] == 0  # never reaches the 98.5 % target


def test_chart_escapes_text_and_has_a_title():
    cases = analysis.ok_cases(_bench(styles=("native", "loop"), sweeps=False, cnn=False), "rnn")
    cases = cases[cases["pass"] == "forward"]
    cases = cases.assign(implementation=cases["implementation"].replace(
        "loop", rs.HOSTILE_STYLE + " $x$"))
    svg = charts.bar_medians(cases, "<script>t</script>", {}, "salt")
    assert svg.startswith("<svg") and "<script" not in svg and "<img" not in svg
    assert "<title>&lt;script&gt;t&lt;/script&gt;</title>" in svg
    assert "$x$" in svg  # math parsing is off: a dollar is just a dollar
    assert 'loop"&lt;img src=x' in svg


def test_the_training_chart_places_a_partial_epoch_where_it_ended(monkeypatch):
    # a 0.75-epoch cap (or a stop at the target) ends inside epoch 1: plotted at 0.75, not 1
    plotted, plot = [], matplotlib.axes.Axes.plot

    def spy(self, x, y, **kw):
        plotted.append((list(x), list(y)))
        return plot(self, x, y, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy)
    epochs = [[{"epoch": 1, "test_acc": 0.99, "train_loss": 0.1, "fraction": 0.75}],
              [{"epoch": 1, "test_acc": 0.98, "train_loss": 0.2, "fraction": 1.0},
               {"epoch": 2, "test_acc": 0.991, "train_loss": 0.1, "fraction": 0.5}]]
    training = pd.DataFrame({"label": ["a", "b"], "device": ["cpu", "cpu"], "seed": [0, 0],
                             "epochs": epochs})
    charts.curves_chart(training, "curves", {}, "salt")
    assert ([0.75], [pytest.approx(99.0)]) in plotted  # accuracy, in %
    assert ([1.0, 1.5], [pytest.approx(98.0), pytest.approx(99.1)]) in plotted
