"""reports.report.write_report on synthetic results (tests/report_samples.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from bench.errors import ResultsError, UsageError
from reports import fmt
from reports.report import write_report
from tests import report_samples as rs

SECTIONS = ["headline", "machine", "rnn", "cnn", "training", "failures", "method"]
MINIMAL = {"sweeps": False, "cnn": False, "training": False}  # fewer charts: faster tests


def _report(tmp_path: Path, **kwargs) -> tuple[str, dict]:
    results = rs.make_results(**kwargs)
    path = rs.write_results(tmp_path / "run", results)
    written = write_report(path)
    assert written[0] == path.with_name("report.html")
    return written[0].read_text(encoding="utf-8"), results


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _median(results: dict, name: str) -> float:
    return next(c["stats"]["median"] for c in results["benchmarks"] if c["name"] == name)


@pytest.fixture(scope="module")
def full_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("full")


@pytest.fixture(scope="module")
def full(full_dir) -> tuple[str, dict]:
    return _report(full_dir, seeds=(0, 1, 2))


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def hostile(hostile_dir) -> str:
    """A partial run on the bundled subset, unverified, with markup in names and errors."""
    return _report(hostile_dir, hostile=True, status="partial", source="bundled",
                   verified=False, **MINIMAL)[0]


def test_sections_in_order_each_with_h2(full):
    html, _ = full
    positions = [html.index(f'<section id="{s}"') for s in SECTIONS]
    assert positions == sorted(positions)
    for section_id in SECTIONS:
        assert "<h2>" in _section(html, section_id)


def test_self_contained_no_script_no_remote_reference(full):
    html, _ = full
    assert not re.search(r"<script", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html
    assert not re.search(r"url\((?!#)", html)  # only in-document references (SVG clip paths)
    assert "<?xml" not in html


def test_headline_names_a_clear_winner_with_its_interval(full):
    html, results = full
    head = _section(html, "headline")
    fastest = _median(results, rs.rnn_name("compile", rs.rnn_params("forward")))
    native = _median(results, rs.rnn_name("native", rs.rnn_params("forward")))
    slowest = _median(results, rs.rnn_name("bmm", rs.rnn_params("forward")))
    assert "<strong>compile</strong> is fastest at" in head
    assert fmt.duration(fastest) in head
    # compile beats the runner-up native by 1.25x by construction: beyond the 1.1x rule
    assert (f"<strong>{fmt.ratio(native / fastest)} faster</strong> than the runner-up "
            "<strong>native</strong> (95 % interval ") in head
    assert re.search(r"95 % interval 1\.[12]\d*–1\.[23]\d*×, 3 repetitions", head)
    slowest_ratio = fmt.ratio(slowest / fastest)
    assert f"the slowest style (<strong>bmm</strong>) takes <strong>{slowest_ratio}" in head
    assert "tied" not in head


def test_headline_says_tied_when_the_leaders_are_within_noise(tmp_path):
    # compile and native 2 % apart, repetitions drifting 1 %: no interval can clear 1.1x
    html, results = _report(tmp_path, medians={"compile": 1.0e-3, "native": 1.02e-3},
                            **MINIMAL)
    head = _section(html, "headline")
    assert head.count("are <strong>tied within the noise</strong>") == 2  # both passes
    assert "is fastest" not in head
    leaders = re.findall(r"<strong>(\w+) and (\w+)</strong> are", head)
    assert [set(pair) for pair in leaders] == [{"compile", "native"}] * 2
    assert re.search(r"takes 1\.0\d× the time of \w+ \(95 % interval [\d.]+–1\.0\d×, "
                     r"3 repetitions\), inside the 1\.10× a difference must clear", head)


def test_unstable_case_is_marked(tmp_path):
    html, _ = _report(tmp_path, unstable_style="premul", **MINIMAL)
    rnn = _section(html, "rnn")
    assert "unstable: repetition medians" in rnn
    assert "premul (unstable)" in rnn  # the chart's row label


def test_headline_cnn_verdict_with_seed_spread(full):
    head = _section(full[0], "headline")
    assert "projection shortcuts</strong> cost" in head
    assert "per train step vs <strong>zeropad</strong>" in head
    assert re.search(r"(within|outside) the seed-to-seed spread \(± [\d.]+ points over 3 seeds\)",
                     head)


def test_one_seed_says_spread_unknown(tmp_path):
    html, _ = _report(tmp_path, seeds=(0,), sweeps=False)
    assert "seed-to-seed spread is unknown" in _section(html, "headline")
    assert "(1 seed)" in _section(html, "cnn")


def test_rnn_section_units_noise_deprecation_and_fit(full):
    rnn = _section(full[0], "rnn")
    assert re.search(r'<td class="num">\d[\d.]* (µs|ms|s)</td>', rnn)
    assert "noisy: IQR is" in rnn  # bmm is generated with a 30 % spread
    assert f"Deprecated — jit: {rs.JIT_WARNING}" in rnn
    assert "per time step" in rnn and "R²" in rnn
    assert rnn.count("<svg") >= 5  # 2 passes + seq_len + hidden + batch sweeps
    assert rnn.count("<title>") == rnn.count("<svg")


def test_rnn_table_shows_repetitions_gflops_and_peak(full):
    html, results = full
    rnn = _section(html, "rnn")
    case = next(c for c in results["benchmarks"]
                if c["name"] == rs.rnn_name("loop", rs.rnn_params("forward")))
    reps = [r["stats"]["median"] for r in case["repetitions"]]
    assert fmt.durations(reps) in rnn  # every repetition's median
    assert fmt.gflops(case["gflops"]) in rnn
    peak = results["calibration"]["gemm_gflops"]
    assert f">{fmt.percent(case['gflops'] / peak)}<" in rnn  # % of the calibrated peak
    assert "repetition medians (ms, log scale)" in rnn  # the strip plot beside the bars
    assert "fastest</td>" in rnn and "slower [" in rnn


def test_seq_len_sweep_uses_groups_and_a_log_axis(full):
    html, results = full
    sweep = _section(html, "rnn")[_section(html, "rnn").index('id="rnn-seq_len"'):]
    assert "log scale" in sweep[:sweep.index("</figure>")]  # bmm is ~4x loop, ~15x native
    shared = [c for c in results["benchmarks"] if len(c["groups"]) > 1]
    assert shared and all({"rnn", "rnn-seq_len"} <= set(c["groups"]) for c in shared)


def test_every_style_and_variant_named(full):
    html, results = full
    for case in results["benchmarks"]:
        assert case["implementation"] in html


def test_machine_card_and_method(full):
    html, _ = full
    machine = _section(html, "machine")
    assert "Synthetic CPU 9000" in machine and "0123456789ab" in machine and "dirty" in machine
    assert re.search(r"float32 GEMM 1024×1024 on cpu: (99\.\d|100) GFLOP/s \(median of 3 "
                     r"repetitions", machine)
    method = _section(html, "method")
    assert "pytest-benchmark" in method and "10 %" in method and "He et al. 2015" in method
    assert "3 repetitions" in method and "hierarchical-bootstrap" in method
    assert "float32 GEMM 1024×1024" in method


def test_version_1_file_reports_one_repetition_and_no_verdict(tmp_path):
    html = write_report(rs.V1_FIXTURE, tmp_path / "report.html")[0].read_text(encoding="utf-8")
    top = html[:html.index('<section id="headline"')]
    assert "Version-1 results: one repetition per case" in top
    head = _section(html, "headline")
    assert head.count("with one repetition per case no difference can be called") == 2
    assert "is fastest" not in head and "tied" not in head
    assert "not measured (a schema-1 file)" in _section(html, "machine")
    assert "(undecided: 1 repetition)" in _section(html, "rnn")


def test_failures_listed_with_reason(full):
    failures = _section(full[0], "failures")
    assert "needs a CUDA device" in failures and "RuntimeError: out of memory" in failures
    assert "skipped" in failures and "failed" in failures


def test_bundled_partial_and_unverified_banners(hostile):
    top = hostile[:hostile.index('<section id="headline"')]
    assert "Incomplete run" in top
    assert "Bundled MNIST subset — not MNIST proper" in top
    assert "Dataset not verified" in top


def test_complete_verified_run_has_no_banner(full):
    assert 'class="banner' not in full[0]


def test_hostile_strings_render_as_text(hostile, hostile_dir):
    html = hostile
    assert not re.search(r"<script", html, re.I)
    assert "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the CPU name, escaped
    assert "&lt;b&gt;boom&lt;/b&gt;" in html  # the error message, escaped
    assert "loop&#34;&lt;img src=x onerror=alert(2)&gt;" in html  # the style name, escaped
    md = (hostile_dir / "run" / "summary.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md and "&lt;img" in md


def test_summary_csv_and_md_written(full, full_dir):
    results = full[1]
    csv = pd.read_csv(full_dir / "run" / "summary.csv")
    assert len(csv) == len(results["benchmarks"])
    assert {"name", "median_s", "iqr_s", "speedup_vs_native", "status", "repetitions",
            "repetition_medians_s", "spread", "unstable", "gflops", "peak_fraction"} \
        <= set(csv.columns)
    name = rs.rnn_name("loop", rs.rnn_params("forward"))
    assert csv.set_index("name").loc[name, "median_s"] == pytest.approx(_median(results, name))
    md = (full_dir / "run" / "summary.md").read_text(encoding="utf-8")
    assert "## Headline" in md and "is fastest at" in md and "| Case |" in md
    assert fmt.duration(_median(results, name)) in md


def test_empty_sections_say_not_measured(tmp_path):
    html, _ = _report(tmp_path, failures=False, **MINIMAL)
    for section_id in ("cnn", "training"):
        assert "Not measured in this run." in _section(html, section_id)
    assert "None: every case ran." in _section(html, "failures")


def test_run_where_everything_failed(tmp_path):
    results = rs.make_results(**MINIMAL)
    for case in results["benchmarks"]:
        case.update(status="failed", stats=None, error="boom", noisy=False)
    path = rs.write_results(tmp_path, results)
    html = write_report(path)[0].read_text(encoding="utf-8")
    assert "nothing to compare" in _section(html, "headline")
    assert "Not measured in this run." in _section(html, "rnn")


def test_failed_training_run_is_listed(tmp_path):
    results = rs.make_results(sweeps=False, cnn=False)
    results["training"][0].update(status="failed", error="loss diverged (NaN)", epochs=[],
                                  params_count=None, time_to_target_s=None)
    html = write_report(rs.write_results(tmp_path, results))[0].read_text(encoding="utf-8")
    failures = _section(html, "failures")
    assert "training" in failures and "loss diverged (NaN)" in failures
    assert "resnet/projection seed 0" in failures


def test_custom_output_path(tmp_path):
    path = rs.write_results(tmp_path / "run", rs.make_results(**MINIMAL))
    written = write_report(path, tmp_path / "out" / "r.html")
    assert [p.name for p in written] == ["r.html", "summary.csv", "summary.md"]
    assert all(p.parent == tmp_path / "out" for p in written)


def test_unwritable_output_is_a_usage_error_and_leaves_nothing(tmp_path):
    path = rs.write_results(tmp_path / "run", rs.make_results(**MINIMAL))
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    with pytest.raises(UsageError, match="cannot write"):
        write_report(path, blocker / "report.html")
    (tmp_path / "out" / "summary.csv").mkdir(parents=True)  # one target cannot be replaced
    with pytest.raises(UsageError, match="summary.csv"):
        write_report(path, tmp_path / "out" / "report.html")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["summary.csv"]


def test_bad_results_file_is_a_results_error(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text('{"tool": "something-else"}')
    with pytest.raises(ResultsError):
        write_report(bad)
    assert not (tmp_path / "report.html").exists()
