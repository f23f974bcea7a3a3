"""reports.compare.write_compare on synthetic results: matching, significance, exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.errors import UsageError
from reports import matching
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


def test_needs_two_files(tmp_path):
    with pytest.raises(UsageError, match="at least two"):
        write_compare([_write(tmp_path, "a")], tmp_path / "c.html")


def test_clearly_slower_same_hardware_is_a_regression(tmp_path):
    base, slow = _write(tmp_path, "a"), _write(tmp_path, "b", scale=1.5, rng_seed=1)
    pairs = matching.pairs([load_run(base), load_run(slow)])
    assert len(pairs) == 12  # 6 styles x 2 passes of the MNIST shape
    assert pairs["regression"].all() and (pairs["verdict"] == "regression").all()
    assert (pairs["p"] < 0.002).all() and pairs["ratio"].between(1.3, 1.7).all()
    out = tmp_path / "c.html"
    assert write_compare([base, slow], out) == 0
    assert write_compare([base, slow], out, fail_on_regression=True) == 1
    html = out.read_text(encoding="utf-8")
    assert "12 significant regressions" in html and '<tr class="bad">' in html


def test_noise_is_not_a_regression(tmp_path):
    base, again = _write(tmp_path, "a"), _write(tmp_path, "b", rng_seed=7)
    pairs = matching.pairs([load_run(base), load_run(again)])
    # bmm is drawn with a 30 % spread: its medians may differ, but never by a significant 1.1x.
    assert not pairs["regression"].any() and (pairs["verdict"] == "noise").all()
    out = tmp_path / "c.html"
    assert write_compare([base, again], out, fail_on_regression=True) == 0
    assert "regression" not in _section(out.read_text(encoding="utf-8"), "cases")


def test_faster_is_not_a_regression(tmp_path):
    base, fast = _write(tmp_path, "a"), _write(tmp_path, "b", scale=0.5, rng_seed=1)
    assert write_compare([base, fast], tmp_path / "c.html", fail_on_regression=True) == 0
    pairs = matching.pairs([load_run(base), load_run(fast)])
    assert (pairs["verdict"] == "faster").all()


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
    assert _section(html, "cases").count("<svg") == 2  # one speed-up chart per other machine
    assert "regression" not in _section(html, "cases")


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
