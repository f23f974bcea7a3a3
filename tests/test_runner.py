"""End-to-end tests of `mnistbench run`: the smoke profile, resume after SIGKILL, Ctrl-C, failing
cases, the lock, and the refusal to overwrite a finished run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.store import results
from bench.timing.profiles import PROFILES, SHORT_TEST_IMAGES
from implementations import rnn
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow

# A fast slice of the smoke profile for the fault tests: four cheap styles of the vanilla RNN.
FAST = "rnn/(loop|bmm|premul|native)/"
SMOKE = PROFILES["smoke"]


def _progress_lines(out: Path) -> list[dict]:
    """The finished case repetitions (calibration entries left out)."""
    path = out / "progress.jsonl"
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
    return [e for e in entries if e["type"] == "repetition"]


def _key(record: dict) -> tuple[str, int]:
    return record["name"], record["repetition"]


def _default_sigint() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and Python then
    # leaves it ignored; give the child the disposition an interactive user's run has.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "MNISTBENCH_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bench", "run", "--profile", "smoke",
                             "--device", "cpu", "--threads", "1", "--no-report",
                             "--out", str(out), *extra], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _wait_for_records(out: Path, count: int, proc: subprocess.Popen, timeout=120) -> None:
    deadline = time.monotonic() + timeout
    while len(_progress_lines(out)) < count:
        assert proc.poll() is None, f"run ended early:\n{proc.communicate()[1]}"
        assert time.monotonic() < deadline, "run made no progress"
        time.sleep(0.02)


def test_smoke_run_writes_complete_valid_results(smoke_run, mnist_dir):
    out, proc = smoke_run
    doc = results.load(out / "results.json")  # validates schema and version
    assert doc["status"] == "complete" and doc["profile"] == "smoke"
    assert doc["config"]["threads"] == 2 and doc["config"]["device"] == "cpu"
    dataset = doc["dataset"]
    assert dataset["verified"] is True
    if mnist_dir is None:  # no full MNIST here: the program fell back to the bundled subset
        assert dataset["subset"] is True and dataset["source"] == "bundled"
        assert dataset["notes"][0].startswith("SUBSET:") and "SUBSET" in proc.stderr
    else:
        assert dataset["subset"] is False and dataset["source"] == "data-dir"
        assert dataset["test_count"] == 10_000
    by_name = {b["name"]: b for b in doc["benchmarks"]}
    assert len(by_name) == len(doc["benchmarks"]), "duplicate cases"
    mnist = [b for b in doc["benchmarks"] if b["group"] == "rnn"]
    for style in rnn.styles("cpu"):
        for pass_ in SMOKE.rnn_passes:
            [case] = [b for b in mnist if b["implementation"] == style
                      and b["params"]["pass"] == pass_]
            assert case["status"] == "ok", case["error"]
            assert case["params"]["batch"] == 64 and case["params"]["seq_len"] == 28
            # the first and the last pass of every repetition always run
            assert case["stats"]["rounds"] == len(case["stats"]["samples"]) \
                >= 2 * SMOKE.min_rounds * SMOKE.repetitions
            assert all(sum(p["rounds"] for p in r["passes"]) == r["stats"]["rounds"]
                       and len(r["passes"]) >= 2 for r in case["repetitions"])
            # each pass keeps its control and the control's two parts, whose geometric mean it is
            assert all(p["control_s"] == pytest.approx(
                (p["control_gemm_s"] * p["control_recurrence_s"]) ** 0.5, rel=1e-12)
                and 0 < p["control_gemm_s"] and 0 < p["control_recurrence_s"]
                and 0 < p["control_fork_s"]  # the fork-join probe beside them (CPU)
                for r in case["repetitions"] for p in r["passes"])
            assert 0 < case["stats"]["min"] <= case["stats"]["median"]
            assert [r["repetition"] for r in case["repetitions"]] == list(range(SMOKE.repetitions))
            assert sum(r["stats"]["rounds"] for r in case["repetitions"]) == \
                case["stats"]["rounds"]
            assert case["flops"] > 0 and case["gflops"] > 0
    for info in rnn.describe():
        if "cpu" not in info.devices:
            skipped = [b for b in mnist if b["implementation"] == info.name]
            assert skipped and all(b["status"] == "skipped" and b["error"] for b in skipped)
    assert any(b["compile_s"] for b in mnist if b["implementation"] == "compile")
    for cell in ("lstm", "gru"):  # every cell, every CPU style but smoke's sit-outs (#13)
        sitouts = {style for c, style, _ in SMOKE.rnn_sitouts if c == cell}
        styles = {b["implementation"] for b in doc["benchmarks"]
                  if b["group"] == cell and b["status"] == "ok"}
        assert styles == set(rnn.styles("cpu", cell=cell)) - sitouts
        assert all("sits out" in b["error"] for b in doc["benchmarks"]
                   if b["group"] == cell and b["implementation"] in sitouts)
    calibration = doc["calibration"]
    assert calibration["device"] == "cpu" and len(calibration["repetitions"]) == SMOKE.repetitions
    assert calibration["gemm_gflops"] > 0
    assert dataset["train_used"] == max(t["train_images"] for t in doc["training"])
    # smoke evaluates on part of the test set (profiles.SHORT_TEST_IMAGES), and says so
    assert dataset["test_used"] == max(t["test_images"] for t in doc["training"])
    assert dataset["test_used"] == min(SHORT_TEST_IMAGES, dataset["test_count"])
    cnn = [b for b in doc["benchmarks"] if b["group"] == "cnn"]
    assert {b["params"]["family"] for b in cnn} == {"resnet", "mobilenetv2"}
    assert all(b["status"] == "ok" for b in cnn)
    assert {t["model"] for t in doc["training"]} == {spec.model for spec in SMOKE.train}
    for record in doc["training"]:  # evaluated on smoke's part of the test set
        assert record["status"] == "ok" and record["test_images"] == dataset["test_used"]
        assert record["epochs"] and 0.0 <= record["epochs"][-1]["test_acc"] <= 1.0
    assert (out / "report.html").is_file() and not (out / ".lock").exists()


def test_smoke_training_learns_above_chance(full_mnist_dir, smoke_run):
    """64 SGD steps per model on full MNIST; the subset's 2000 images make only 16, which can
    leave MobileNetV2 at chance, so this needs the full set."""
    doc = results.load(smoke_run[0] / "results.json")
    assert doc["dataset"]["location"] == str(full_mnist_dir.resolve())
    for record in doc["training"]:
        assert 0.1 < record["epochs"][-1]["test_acc"] <= 1.0, record["model"]


def test_pytest_benchmark_json_is_readable_by_pytest_benchmark(smoke_run):
    out, _ = smoke_run
    native = json.loads((out / "pytest-benchmark.json").read_text())
    assert len(native["benchmarks"]) == sum(
        b["status"] == "ok" for b in results.load(out / "results.json")["benchmarks"])
    proc = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare",
                           str(out / "pytest-benchmark.json")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "rnn/native/forward" in proc.stdout


def test_finished_run_is_never_overwritten(smoke_run):
    out, _ = smoke_run
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    proc = run_cli("run", "--profile", "smoke", "--device", "cpu", "--out", str(out))
    assert proc.returncode == 2
    assert "finished run" in proc.stderr and "Traceback" not in proc.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_run_cut_while_writing_its_results_is_finished_by_resume_without_its_data(
        smoke_run, tmp_path):
    """Every item saved, results.json not written (a time limit's SIGINT came during the
    assembly): --resume assembles it without loading the data (here: gone) or running a case."""
    out = tmp_path / "run"
    shutil.copytree(smoke_run[0], out)
    finished = json.loads((out / "results.json").read_text())
    for name in ("results.json", "pytest-benchmark.json", "report.html", "summary.md"):
        (out / name).unlink()
    header = json.loads((out / "run.json").read_text())
    header["config"]["requested"]["data_dir"] = str(tmp_path / "no-such-data")
    (out / "run.json").write_text(json.dumps(header))
    progress = (out / "progress.jsonl").read_text()
    proc = run_cli("run", "--resume", "--out", str(out), "--no-report")
    assert proc.returncode == 0, proc.stderr
    assert "items are saved; writing the results" in proc.stderr
    assert (out / "progress.jsonl").read_text() == progress  # nothing ran again
    doc = results.load(out / "results.json")
    assert doc["status"] == "complete"
    assert doc["benchmarks"] == finished["benchmarks"] and doc["training"] == finished["training"]


def test_resume_after_sigkill_keeps_finished_cases_and_duplicates_none(tmp_path):
    out = tmp_path / "run"
    proc = _start(out, "--only", FAST)
    _wait_for_records(out, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    time.sleep(0.5)  # the worker dies with its runner (PR_SET_PDEATHSIG): nothing more lands
    before = {_key(e["record"]): e["record"] for e in _progress_lines(out)}
    assert before == {_key(e["record"]): e["record"] for e in _progress_lines(out)}
    assert 3 <= len(before) < 4 * SMOKE.repetitions  # 4 cases in every repetition
    resumed = run_cli("run", "--resume", "--out", str(out), "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    doc = results.load(out / "results.json")
    names = [b["name"] for b in doc["benchmarks"]]
    assert doc["status"] == "complete" and len(names) == len(set(names)) == 4
    for b in doc["benchmarks"]:
        assert b["status"] == "ok" and [r["repetition"] for r in b["repetitions"]] == \
            list(range(SMOKE.repetitions))
        for rep in b["repetitions"]:
            if (b["name"], rep["repetition"]) in before:  # kept as measured, not re-run
                old = before[(b["name"], rep["repetition"])]
                assert rep["stats"]["samples"] == old["stats"]["samples"]


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    proc = _start(out, "--only", FAST)
    _wait_for_records(out, 1, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"--resume --out {out}" in stderr and "Traceback" not in stderr
    assert results.load(out / "results.json")["status"] == "partial"
    assert not (out / ".lock").exists()


def test_failing_case_is_recorded_and_the_run_goes_on(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("run", "--profile", "smoke", "--device", "cpu", "--out", str(out),
                   "--only", "rnn/(bmm|native)/|^train/resnet", "--no-report",
                   env={"MNISTBENCH_FAIL_CASES": "rnn/bmm/|^train/"})
    assert proc.returncode == 0, proc.stderr
    doc = results.load(out / "results.json")
    status = {b["name"].split("/")[1]: b for b in doc["benchmarks"]}
    assert status["bmm"]["status"] == "failed"
    assert "injected failure" in status["bmm"]["error"]
    assert status["native"]["status"] == "ok"
    [train] = doc["training"]
    assert train["status"] == "failed" and "injected failure" in train["error"]


def test_second_run_on_the_same_out_is_refused_while_the_first_holds_it(tmp_path):
    out = tmp_path / "run"
    first = _start(out, "--only", FAST)
    try:
        _wait_for_records(out, 1, first)
        second = run_cli("run", "--resume", "--out", str(out))
        assert second.returncode == 2 and "in use" in second.stderr
    finally:
        first.kill()
        first.communicate()
    keys = [_key(e["record"]) for e in _progress_lines(out)]
    assert len(keys) == len(set(keys))

