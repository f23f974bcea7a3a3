"""reports.compare.write_compare on synthetic results: matching, verdicts, calibration, --json,
exit codes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bench import cli
from bench.errors import UsageError
from reports import compare, gate, matching
from reports.compare import write_compare
from reports.load import load_run
from tests import report_samples as rs

SMALL = {"sweeps": False, "cnn": False}  # RNN cases + training: enough to compare, quick to draw


def _write(tmp_path: Path, name: str, **kwargs) -> Path:
    return rs.write_results(tmp_path / name, rs.make_results(run_id=f"20260101-000000-{name}",
                                                             **{**SMALL, **kwargs}))


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _gate_summary(tmp_path: Path, paths: list[Path], code: int) -> str:
    """The summary section of compare's HTML; asserts --fail-on-regression's exit code."""
    out = tmp_path / "c.html"
    assert write_compare(paths, out, fail_on_regression=True) == code
    return _section(out.read_text(encoding="utf-8"), "summary")


def test_needs_two_files(tmp_path):
    with pytest.raises(UsageError, match="at least two"):
        write_compare([_write(tmp_path, "a")], tmp_path / "c.html")


def test_clearly_slower_same_hardware_is_a_regression(tmp_path):
    base, slow = _write(tmp_path, "a"), _write(tmp_path, "b", scale=1.5, rng_seed=1)
    pairs = matching.pairs([load_run(base), load_run(slow)])
    assert len(pairs) == 12  # 6 styles x 2 passes of the MNIST shape
    assert pairs["regression"].all() and (pairs["verdict"] == "regression").all()
    assert (pairs["low"] > 1.1).all() and pairs["ratio"].between(1.3, 1.7).all()
    assert (pairs["repetitions"] == 3).all()
    out = tmp_path / "c.html"
    assert write_compare([base, slow], out) == 0
    assert write_compare([base, slow], out, fail_on_regression=True) == 1
    html = out.read_text(encoding="utf-8")
    assert "12 regressions" in html and '<tr class="bad">' in html


def test_a_a_pair_calls_nothing(tmp_path):
    # Same distributions, other seeds: rounds scatter 2 % (bmm 30 %), repetitions drift 1 %.
    base = _write(tmp_path, "a", sweeps=True, cnn=True)
    again = _write(tmp_path, "b", sweeps=True, cnn=True, rng_seed=7)
    pairs = matching.pairs([load_run(base), load_run(again)])
    assert len(pairs) == 12 + 3 * 7 + 12  # main; 3 styles x 7 sweep points not the main case; CNN
    assert not pairs["regression"].any() and (pairs["verdict"] == "same").all()
    out = tmp_path / "c.html"
    assert write_compare([base, again], out, fail_on_regression=True) == 0
    html = out.read_text(encoding="utf-8")
    assert "<td>regression</td>" not in _section(html, "cases")
    assert "0 regressions, 0 improvements" in _section(html, "summary")
    assert "the machine itself did not move beyond the noise" in _section(html, "summary")


SLOWED = [rs.rnn_name("loop", rs.rnn_params("forward")),
          rs.rnn_name("native", rs.rnn_params("forward_backward")),
          rs.rnn_name("premul", rs.rnn_params("forward"))]


def test_three_cases_slowed_by_1_25_are_exactly_the_regressions(tmp_path):
    base = _write(tmp_path, "a")
    slowed = _write(tmp_path, "b", rng_seed=3, slow=dict.fromkeys(SLOWED, 1.25))
    pairs = matching.pairs([load_run(base), load_run(slowed)])
    assert sorted(pairs.loc[pairs["regression"], "name"]) == sorted(SLOWED)
    assert (pairs.loc[~pairs["regression"], "verdict"] == "same").all()
    assert write_compare([base, slowed], tmp_path / "c.html", fail_on_regression=True) == 1


def test_a_case_that_moved_with_all_the_others_is_not_called(tmp_path):
    # every case 7 % faster (a machine state the control missed) and one 5 % more: 0.88x raw,
    # beyond the factor, but 0.95x against how far the cases moved together
    moved = rs.rnn_name("native", rs.rnn_params("forward_backward"))
    base = _write(tmp_path, "a")
    other = _write(tmp_path, "b", rng_seed=3, scale=0.93, slow={moved: 0.95})
    pairs = matching.pairs([load_run(base), load_run(other)]).set_index("name")
    assert pairs.loc[moved, "high"] < 1 / 1.1  # called by the verdict rule alone
    assert pairs.loc[moved, "verdict"] == "same" and pairs.loc[moved, "basis"] == "shared"
    assert not pairs["significant"].any()
    out, verdicts = tmp_path / "c.html", tmp_path / "v.json"
    assert write_compare([base, other], out, json_path=verdicts, fail_on_regression=True) == 0
    summary = _section(out.read_text(encoding="utf-8"), "summary")
    assert "0 regressions, 0 improvements" in summary
    assert "1 moved beyond the factor but within it of how far all the cases moved" in summary
    cases = json.loads(verdicts.read_text(encoding="utf-8"))["runs"][0]["cases"]
    assert [c["basis"] for c in cases if c["name"] == moved] == ["shared"]


def test_a_slowed_case_is_caught_while_all_the_others_moved(tmp_path):
    slowed = rs.rnn_name("loop", rs.rnn_params("forward"))
    base = _write(tmp_path, "a")
    other = _write(tmp_path, "b", rng_seed=4, scale=0.93, slow={slowed: 1.3})  # 1.21x raw
    pairs = matching.pairs([load_run(base), load_run(other)])
    assert list(pairs.loc[pairs["significant"], "name"]) == [slowed]
    assert pairs.loc[pairs["significant"], "verdict"].tolist() == ["regression"]


def _frame(ratios: list[float], spread: float = 1.02) -> pd.DataFrame:
    """Pairs' rows on one machine and device, each called where its interval says so."""
    rows = [{"name": f"c{i}", "device": "cpu", "other_device": "cpu", "base_run": 0, "run": 1,
             "same_hardware": True, "basis": "adjusted", "repetitions": 3, "ratio": r,
             "low": r / spread, "high": r * spread,
             "significant": r / spread > 1.1 or r * spread < 1 / 1.1,
             "verdict": "regression" if r / spread > 1.1 else
             "improvement" if r * spread < 1 / 1.1 else "same",
             "regression": r / spread > 1.1} for i, r in enumerate(ratios)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("ratios, called", [
    ([0.85, *[0.94] * 6], []),                  # moved with the others: withdrawn
    ([0.80, *[0.94] * 6], ["c0"]),              # 0.85x of the others: stays
    ([1.18, *[1.06] * 6], []),
    ([1.30, *[1.06] * 6], ["c0"]),
    ([0.85, *[0.94] * 4], ["c0"]),              # too few cases to say how far they moved
    ([0.82, *[0.87] * 6], []),                  # all moved 1.15x, the control did not: withdrawn
    ([0.70, *[0.80] * 6], [f"c{i}" for i in range(7)]),  # all moved beyond 1.2x: as called
])
def test_shared_movement_withdraws_what_moved_with_the_others(ratios, called):
    before = _frame(ratios)
    after = matching.shared_movement(before)
    assert after.loc[after["significant"], "name"].tolist() == called
    withdrawn = before["significant"] & ~after["significant"]
    assert (after.loc[withdrawn, "basis"] == "shared").all()
    assert (after.loc[withdrawn, "verdict"] == "same").all()
    assert not (after["significant"] & ~before["significant"]).any()


@pytest.mark.parametrize("ratios, added", [
    ([1.12, *[0.92] * 6], ["c0"]),              # 1.22x of the others, which ran faster
    ([0.89, *[1.08] * 6], ["c0"]),              # the same, faster
    ([1.08, *[0.92] * 6], []),                  # 1.17x of the others, but itself within 1.1x
    ([1.12, *[0.98] * 6], []),                  # 1.14x of the others: the interval reaches 1.1x
    ([1.12, *[0.92] * 4], []),                  # too few cases to say how far they moved
    ([1.12, 1.04, *[0.80] * 6], []),            # all moved beyond 1.2x: left as judged
])
def test_shared_movement_calls_what_moved_against_the_others(ratios, added):
    before = _frame(ratios, spread=1.05)
    after = matching.shared_movement(before)
    new = after["significant"] & ~before["significant"]
    assert after.loc[new, "name"].tolist() == added
    assert (after.loc[new, "basis"] == "relative").all()
    assert after.loc[new, "verdict"].tolist() == [
        "regression" if r > 1 else "improvement" for r in after.loc[new, "ratio"]]
    assert (after.loc[new, "regression"] == (after.loc[new, "ratio"] > 1)).all()


def test_a_slowed_case_is_caught_against_a_run_the_control_read_too_fast(tmp_path):
    # every case 12 % faster in the slowed run (a state the control missed): the case slowed
    # 1.26x reads 1.10x, its interval down to 1.09x, but 1.25x of how far the others moved
    slowed = rs.rnn_name("native", rs.rnn_params("forward_backward"))
    base = _write(tmp_path, "a")
    other = _write(tmp_path, "b", rng_seed=5, scale=0.88, slow={slowed: 1.26})
    pairs = matching.pairs([load_run(base), load_run(other)]).set_index("name")
    assert 1.1 < pairs.loc[slowed, "ratio"] and pairs.loc[slowed, "low"] < 1.1
    assert pairs.loc[slowed, "verdict"] == "regression"
    assert pairs.loc[slowed, "basis"] == "relative"
    assert pairs["significant"].sum() == 1
    summary = _gate_summary(tmp_path, [base, other], 1)
    assert "1 regressions, 0 improvements" in summary
    assert "1 called against how far all the cases moved together" in summary


@pytest.mark.parametrize("ratios, called, basis", [
    ([0.70, *[0.80] * 6], [], "together"),      # all moved beyond 1.2x, and no code changed
    ([1.45, *[1.30] * 6], [], "together"),
    ([0.85, *[0.94] * 6], [], "shared"),        # within 1.2x: judged as any pair is
    ([1.30, *[1.06] * 6], ["c0"], "adjusted"),
])
def test_one_setup_leaves_a_pair_undecided_when_every_case_moved(ratios, called, basis):
    before = _frame(ratios)
    after = matching.shared_movement(before, one_setup={(0, 1)})
    assert after.loc[after["significant"], "name"].tolist() == called
    assert after.loc[0, "basis"] == basis
    if basis == "together":
        assert (after["basis"] == "together").all() and (after["verdict"] == "same").all()
        assert not after["regression"].any()
    # another pair of runs, or another setup: as without it
    other = matching.shared_movement(before, one_setup={(1, 0), (0, 2)})
    assert (other["significant"] == matching.shared_movement(before)["significant"]).all()


def _clean(tmp_path: Path, name: str, **kwargs) -> Path:
    return _write(tmp_path, name, commit=(rs.SHA, False), **kwargs)


def test_a_pair_at_one_commit_that_moved_together_is_undecided(tmp_path):
    # every case 1.5x slower at one clean commit, software and machine: the machine moved
    base, slow = _clean(tmp_path, "a"), _clean(tmp_path, "b", scale=1.5, rng_seed=1)
    pairs = matching.pairs([load_run(base), load_run(slow)])
    assert (pairs["low"] > 1.1).all()  # each would be called on its own
    assert (pairs["basis"] == "together").all() and not pairs["significant"].any()
    summary = _gate_summary(tmp_path, [base, slow], 0)
    assert "0 regressions, 0 improvements" in summary
    assert "12 undecided: both runs ran one clean commit" in summary


@pytest.mark.parametrize("change", [
    {"commit": ("f" * 40, False)},                                      # another commit
    {"commit": (rs.SHA, True)},                                         # uncommitted changes
    {"commit": (rs.SHA, False), "fingerprint": "another"},              # another machine
])
def test_a_pair_that_moved_together_with_a_change_is_called(tmp_path, change):
    base = _clean(tmp_path, "a")
    slow = _write(tmp_path, "b", scale=1.5, rng_seed=1, **change)
    pairs = matching.pairs([load_run(base), load_run(slow)])
    assert pairs["significant"].all() and "together" not in set(pairs["basis"])


def test_console_names_each_regression_and_the_exit(tmp_path, capsys):
    base = _write(tmp_path, "a")
    slowed = _write(tmp_path, "b", rng_seed=3, slow=dict.fromkeys(SLOWED, 1.25))
    html = tmp_path / "c.html"
    code = cli.main(["compare", str(base), str(slowed), "-o", str(html), "--fail-on-regression"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Run 2 against run 1 (same hardware): 12 matched cases, 3 regressions, " \
           "0 improvements, 9 within the noise" in out
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("  regression")]
    assert sorted(listed) == sorted(SLOWED)
    assert err.count("\n") == 1 and "exit 1" in err and "Traceback" not in err
    # an unchanged pair: counts only, nothing listed, exit 0
    code = cli.main(["compare", str(base), str(_write(tmp_path, "c", rng_seed=4)), "-o",
                     str(html), "--fail-on-regression"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert "0 regressions, 0 improvements, 12 within the noise" in out
    assert "  regression" not in out and "  improvement" not in out


def test_console_says_when_the_machine_moved_the_cases(tmp_path, capsys):
    base, slow = _clean(tmp_path, "a"), _clean(tmp_path, "b", scale=1.5, rng_seed=1)
    assert cli.main(["compare", str(base), str(slow), "-o", str(tmp_path / "c.html")]) == 0
    out = capsys.readouterr().out
    assert "0 regressions, 0 improvements, 12 within the noise" in out
    assert "12 cases left undecided because the machine moved" in out
    assert "the machine itself ran" not in out  # the reference GEMM ran alike
    slower_machine = _write(tmp_path, "c", rng_seed=2, gemm_gflops=0.7 * rs.GEMM_GFLOPS)
    assert cli.main(["compare", str(base), str(slower_machine), "-o",
                     str(tmp_path / "c.html")]) == 0
    assert re.search(r"the machine itself ran (29|30|31)\.\d % slower than in run 1 \(reference "
                     r"GEMM", capsys.readouterr().out)


def test_console_lists_at_most_its_share_of_cases(tmp_path, monkeypatch):
    runs = [load_run(_write(tmp_path, "a")), load_run(_write(tmp_path, "b", scale=1.5,
                                                              rng_seed=1))]
    pairs, calibrations = matching.pairs(runs), matching.calibrations(runs)
    assert pairs["regression"].sum() == 12
    lines = gate.console_lines(pairs, calibrations)
    assert sum(line.startswith("  regression") for line in lines) == 12
    monkeypatch.setattr(gate, "CONSOLE_CASES", 5)
    lines = gate.console_lines(pairs, calibrations)
    assert sum(line.startswith("  regression") for line in lines) == 5
    assert "  ... and 7 more regressions (see the HTML)" in lines


def test_console_counts_other_hardware_and_points_across_devices_to_the_html(tmp_path):
    base = load_run(_write(tmp_path, "a"))
    other = load_run(_write(tmp_path, "b", scale=2.0, rng_seed=1, fingerprint="another"))
    lines = compare.compare_context([base, other])["console"]
    assert lines == ["Run 2 against run 1 (other hardware): 12 matched cases, 12 slower, "
                     "0 faster, 0 within the noise"]
    gpu = load_run(_write(tmp_path, "c", device="cuda", gpu="NVIDIA H100"))
    assert compare.compare_context([base, gpu])["console"] == [
        "No case ran on one device in two of these runs: the HTML compares them across devices."]


def test_slowed_cases_are_caught_at_one_commit(tmp_path):
    base, slowed = _clean(tmp_path, "a"), _clean(tmp_path, "b", rng_seed=3,
                                                   slow=dict.fromkeys(SLOWED, 1.25))
    pairs = matching.pairs([load_run(base), load_run(slowed)])
    assert sorted(pairs.loc[pairs["regression"], "name"]) == sorted(SLOWED)
    assert pairs["significant"].sum() == 3


def test_setup_is_the_clean_commit_software_machine_and_settings(tmp_path):
    def setup(**kwargs) -> str | None:
        return load_run(_write(tmp_path, f"r{len(list(tmp_path.iterdir()))}",
                               **{"commit": (rs.SHA, False), **kwargs})).setup
    assert setup() is not None and setup() == setup(scale=1.5, rng_seed=2)
    assert setup(commit=(rs.SHA, True)) is None and setup(commit=(None, None)) is None
    assert setup(commit=(rs.SHA, None)) is None  # git could not tell
    assert setup(fingerprint="another") != setup()
    assert setup(device="cuda", gpu="NVIDIA H100") != setup()


def test_shared_movement_leaves_other_hardware_and_undecided_cases_alone():
    frame = _frame([0.85, *[0.94] * 6])
    across = matching.shared_movement(frame.assign(same_hardware=False))
    assert across["significant"].tolist() == frame["significant"].tolist()
    # undecided cases do not count towards the median: five are too few
    frame.loc[[1, 2], "basis"] = "undecided"
    assert matching.shared_movement(frame)["significant"].tolist()[0]


def test_faster_is_an_improvement_not_a_regression(tmp_path):
    base, fast = _write(tmp_path, "a"), _write(tmp_path, "b", scale=0.5, rng_seed=1)
    assert write_compare([base, fast], tmp_path / "c.html", fail_on_regression=True) == 0
    pairs = matching.pairs([load_run(base), load_run(fast)])
    assert (pairs["verdict"] == "improvement").all()


def test_a_machine_20_percent_slower_is_said_in_words(tmp_path):
    base = _write(tmp_path, "a")
    slower = _write(tmp_path, "b", rng_seed=2, gemm_gflops=0.8 * rs.GEMM_GFLOPS, scale=1.25)
    out, verdicts = tmp_path / "c.html", tmp_path / "v.json"
    assert write_compare([base, slower], out, json_path=verdicts) == 0
    summary = _section(out.read_text(encoding="utf-8"), "summary")
    assert re.search(r"Run 2: the machine itself ran (19\.\d|20\.\d) % slower than in run 1",
                     summary)
    assert "took 1.2" in summary and "the reference took" in summary
    cal = json.loads(verdicts.read_text(encoding="utf-8"))["runs"][0]["calibration"]
    assert cal["moved"] == "slower" and cal["ratio"] == pytest.approx(0.8, abs=0.01)
    assert cal["high"] < 1 / 1.1
    cases = _section(out.read_text(encoding="utf-8"), "cases")
    # files without passes: the verdict is drawn over repetitions, raw ratio beside it
    assert "Time ratio" in cases and "Verdict ratio" in cases and ">repetitions<" in cases


def test_json_verdicts_for_a_ci_gate(tmp_path):
    base = _write(tmp_path, "a")
    slowed = _write(tmp_path, "b", rng_seed=3, slow=dict.fromkeys(SLOWED, 1.25))
    other = _write(tmp_path, "c", fingerprint="other", scale=2.0, rng_seed=4)
    verdicts = tmp_path / "v.json"
    assert write_compare([base, slowed, other], tmp_path / "c.html", json_path=verdicts) == 0
    doc = json.loads(verdicts.read_text(encoding="utf-8"))
    assert (doc["tool"], doc["kind"], doc["format_version"]) == ("mnistbench", "compare", 1)
    assert doc["factor"] == 1.1 and doc["regressions"] == 3
    assert doc["baseline"]["run_id"] == "20260101-000000-a"
    assert [r["run"] for r in doc["runs"]] == [2, 3]
    same, across = doc["runs"]
    assert same["same_hardware"] and not across["same_hardware"]
    assert same["regressions"] == 3 and same["improvements"] == 0
    assert len(same["cases"]) == 12 and {c["device"] for c in same["cases"]} == {"cpu"}
    for case in same["cases"]:
        assert {"name", "device", "ratio", "low", "high", "verdict"} <= set(case)
        assert case["low"] <= case["ratio"] <= case["high"]
        assert case["verdict"] == ("regression" if case["name"] in SLOWED else "same")
    assert {c["verdict"] for c in across["cases"]} == {"slower"}  # 2x on another machine
    assert same["calibration"]["moved"] is None
    assert same["calibration"]["ratio"] == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("target", ["dir", "missing/v.json", "afile/v.json", "input"])
def test_bad_json_target_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, target):
    a, b = _write(tmp_path, "a"), _write(tmp_path, "b")
    (tmp_path / "dir").mkdir()
    (tmp_path / "afile").write_text("x")
    path = a if target == "input" else tmp_path / target
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    html = tmp_path / "c.html"
    code = cli.main(["compare", str(a), str(b), "-o", str(html), "--json", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--json" in err and "Traceback" not in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_version_1_files_compare_as_same(tmp_path):
    twin = tmp_path / "twin" / "results.json"
    twin.parent.mkdir()
    shutil.copy(rs.V1_FIXTURE, twin)
    v2 = _write(tmp_path, "v2")
    verdicts = tmp_path / "v.json"
    out = tmp_path / "c.html"
    assert write_compare([rs.V1_FIXTURE, twin, v2], out, fail_on_regression=True,
                         json_path=verdicts) == 0
    doc = json.loads(verdicts.read_text(encoding="utf-8"))
    assert doc["regressions"] == 0
    v1_pair, mixed = doc["runs"]
    lines = compare.compare_context([load_run(p) for p in (rs.V1_FIXTURE, twin, v2)])["console"]
    assert any(re.search(r"^  \d+ cases with one repetition a side", line) for line in lines)
    assert len(v1_pair["cases"]) > 40 and mixed["cases"]
    for case in v1_pair["cases"] + mixed["cases"]:
        assert case["verdict"] == "same" and case["repetitions"] == 1
    assert v1_pair["calibration"] is None
    html = out.read_text(encoding="utf-8")
    assert "no calibration to compare" in _section(html, "summary")
    assert "1 (schema 1)" in _section(html, "summary")  # the runs table
    assert "with one repetition a side: undecidable" in _section(html, "summary")


def test_cross_hardware_reads_as_speedups_not_regressions(tmp_path):
    cpu = _write(tmp_path, "a")
    gpu = _write(tmp_path, "b", device="cuda", gpu="NVIDIA H100 <b>80GB</b>", fingerprint="other",
                 scale=0.1, styles=("native", "loop", "premul"))
    slow_other = _write(tmp_path, "c", fingerprint="other", scale=2.0, rng_seed=3)
    out = tmp_path / "c.html"
    assert write_compare([cpu, gpu, slow_other], out, fail_on_regression=True) == 0
    html = out.read_text(encoding="utf-8")
    devices = _section(html, "devices")
    assert "cpu → cuda" in devices and "faster" in devices
    assert "NVIDIA H100 &lt;b&gt;80GB&lt;/b&gt;" in _section(html, "machines")
    assert "different hardware or device" in _section(html, "summary")
    assert "Run 3 ran on other hardware: its reference GEMM reached" in _section(html, "summary")
    assert _section(html, "cases").count("<svg") == 2  # one speed-up chart per other machine
    assert "<td>regression</td>" not in _section(html, "cases")


def test_missing_cases_are_listed(tmp_path):
    base = _write(tmp_path, "a")
    fewer = _write(tmp_path, "b", styles=("native", "loop"), failures=False)
    html_path = tmp_path / "c.html"
    write_compare([base, fewer], html_path)
    missing = _section(html_path.read_text(encoding="utf-8"), "missing")
    for style in ("bmm", "premul", "jit", "compile"):
        assert f"rnn/{style}/forward/b64-t28-i28-h128-l1-uni" in missing
    assert "missing" in missing and "failed" in missing and "skipped" in missing
    assert "rnn/loop/forward/b64" not in missing  # ran in both: compared, not listed


def test_runs_with_nothing_in_common(tmp_path):
    only = {"sweeps": False, "training": False, "failures": False}
    a = _write(tmp_path, "a", styles=("loop",), **only)
    b = _write(tmp_path, "b", styles=("native",), **only)
    out = tmp_path / "c.html"
    assert write_compare([a, b], out, fail_on_regression=True) == 0
    html = out.read_text(encoding="utf-8")
    assert "No case ran in more than one of these runs." in html
    assert "rnn/loop/forward" in _section(html, "missing")
    assert "No training in these runs." in _section(html, "training")


def test_training_side_by_side(tmp_path):
    base, slow = _write(tmp_path, "a", cnn=True), _write(tmp_path, "b", cnn=True, scale=2.0)
    out = tmp_path / "c.html"
    write_compare([base, slow], out)
    training = _section(out.read_text(encoding="utf-8"), "training")
    assert "resnet/projection" in training and "Run 2 time to target" in training
    assert re.search(r"\d+\.\d\d %", training)


def test_hostile_strings_render_as_text(tmp_path):
    a = _write(tmp_path, "a", hostile=True)
    b = _write(tmp_path, "b", hostile=True, rng_seed=1, status="partial", source="bundled")
    out = tmp_path / "c.html"
    write_compare([a, b], out)
    html = out.read_text(encoding="utf-8")
    assert not re.search(r"<script", html, re.I)
    assert "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Run 2: Incomplete run" in html and "Run 2: Bundled MNIST subset" in html


def test_unwritable_output_is_a_usage_error(tmp_path):
    a, b = _write(tmp_path, "a"), _write(tmp_path, "b")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write"):
        write_compare([a, b], blocker / "c.html")


def test_cells_compare_by_name_and_the_tables_show_the_cell(tmp_path):
    # the same style and pass in three cells: three cases, matched by their names (issue #13)
    slowed = rs.rnn_name("native", rs.rnn_params("forward", cell="lstm"))
    base = _write(tmp_path, "a", cells=("rnn", "lstm", "gru"), training=False)
    other = _write(tmp_path, "b", cells=("rnn", "lstm", "gru"), training=False, rng_seed=3,
                   slow={slowed: 1.25})
    pairs = matching.pairs([load_run(base), load_run(other)])
    assert len(pairs) == 3 * 12
    assert pairs.loc[pairs["regression"], "name"].tolist() == [slowed]
    out = tmp_path / "c.html"
    assert write_compare([base, other], out, fail_on_regression=True) == 1
    cases = _section(out.read_text(encoding="utf-8"), "cases")
    assert f'<tr class="bad"><td>{slowed}</td>' in cases  # "lstm/native/forward/..."
    for cell in ("rnn", "lstm", "gru"):
        assert f"<td>{cell}/native/forward/" in cases
