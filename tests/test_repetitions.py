"""bench.run.repetitions and bench.timing.records: the plan of repetitions, and how a case's
repetitions fold into one record (no worker processes here; test_runner runs real ones)."""

from __future__ import annotations

import pytest

from bench.run import assemble
from bench.run.repetitions import order, pending
from bench.store import schema
from bench.timing import calibrate
from bench.timing.cases import Case
from bench.timing.records import benchmark_record, repetition_entry

NAMES = [f"rnn/s{i}/forward/b64" for i in range(12)]


def _case(name="rnn/loop/forward/b64-t28", groups=("rnn",), skip=None) -> Case:
    return Case(name, groups, "rnn", "loop", "cpu", {"pass": "forward"}, skip)


def _entry(rep, samples, status="ok", flops=2e6, first=0.5) -> dict:
    stats = None
    if status == "ok":
        stats = {"min": min(samples), "max": max(samples), "mean": sum(samples) / len(samples),
                 "stddev": 0.0, "median": sorted(samples)[len(samples) // 2], "iqr": 0.0,
                 "q1": min(samples), "q3": max(samples), "rounds": len(samples),
                 "samples": samples}
    return {"name": _case().name, "device": "cpu", "warnings": ["W"], "flops": flops,
            "repetition": rep, "status": status, "error": None if status == "ok" else "boom",
            "stats": stats, "first_call_s": first}


def test_each_repetition_has_its_own_reproducible_shuffle():
    orders = [order(NAMES, seed=0, repetition=r) for r in range(3)]
    assert all(sorted(o) == sorted(NAMES) for o in orders)
    assert len({tuple(o) for o in orders}) == 3  # 12! orders: equal ones would be a bug
    assert order(NAMES, 0, 1) == orders[1] and order(NAMES, 1, 1) != orders[1]


def test_pending_keeps_finished_repetitions():
    a, b = _case("a"), _case("b")
    todo = pending([a, b], done={("a", 0), ("b", 0), ("a", 1)}, repetitions=3,
                   calibrated={0, 1})
    assert {rep: [c.name for c in cases] for rep, cases in todo.items()} == {
        1: ["b"], 2: ["a", "b"]}
    assert pending([a], done={("a", 0)}, repetitions=1, calibrated=set()) == {0: []}


def test_a_case_folds_its_repetitions():
    record = benchmark_record(_case(groups=("rnn", "rnn-seq_len")),
                              [_entry(1, [2.0, 2.2, 2.1]), _entry(0, [1.0, 1.1, 1.2])],
                              compiles=True)
    assert record.status == "ok" and record.groups == ["rnn", "rnn-seq_len"]
    assert [r.repetition for r in record.repetitions] == [0, 1]
    assert record.stats.rounds == 6 and record.stats.median == pytest.approx(1.6)
    assert record.spread == pytest.approx(2.1 / 1.1 - 1) and record.unstable
    assert record.compile_s == 0.5 and record.flops == 2e6
    assert record.gflops == pytest.approx(2e6 / 1.6 / 1e9)
    schema.Benchmark(**{**record.__dict__})  # a complete record


def test_a_failed_repetition_fails_the_case_with_its_reason():
    record = benchmark_record(_case(), [_entry(0, [1.0]), _entry(1, [], status="failed")],
                              compiles=False)
    assert record.status == "failed" and record.error == "boom"
    assert record.stats.rounds == 1  # what did finish is kept
    assert benchmark_record(_case(), [], compiles=False).status == "failed"


def test_a_skipped_case_has_no_repetitions():
    record = benchmark_record(_case(skip="runs only on cuda"), [], compiles=False)
    assert record.status == "skipped" and record.error == "runs only on cuda"
    assert record.repetitions == [] and record.stats is None and not record.unstable


def test_failed_entry_from_the_runner_has_the_schema_shape():
    entry = repetition_entry(_case(), 2, "failed", "the worker died")
    assert entry["repetition"] == 2 and entry["stats"] is None and entry["error"]


def test_calibration_is_the_median_over_repetitions():
    points = [schema.CalibrationPoint(r, g, None) for r, g in ((2, 90.0), (0, 100.0), (1, 80.0))]
    import torch

    block = calibrate.combine(torch.device("cpu"), points)
    assert block.gemm_gflops == 90.0 and [p.repetition for p in block.repetitions] == [0, 1, 2]
    assert block.host_gemm_gflops is None and block.gemm_n == calibrate.GEMM_N["cpu"]


def test_the_control_times_both_references_and_leaves_the_global_rng_alone():
    import torch

    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    control = calibrate.Control(torch.device("cpu"))
    assert torch.equal(torch.rand(4), expected)  # cases built after it draw what they would
    seconds = [control.seconds() for _ in range(3)]
    assert all(0 < s < 1 for s in seconds)
    assert 0 < control.fork_s() < 1  # the fork-join probe, recorded beside the control
    block = calibrate.combine(torch.device("cpu"), [schema.CalibrationPoint(0, 1.0, None)])
    assert block.control == calibrate.control_id(torch.device("cpu"))
    assert "gemm256" in block.control and "tanh28x64x128" in block.control


def test_a_later_repetition_skips_the_flops_an_earlier_one_recorded(tmp_path):
    from bench.store import atomic
    from bench.timing.worker import flops_recorded

    progress = tmp_path / "progress.jsonl"
    assert flops_recorded(progress) == frozenset()
    atomic.append_jsonl(progress, {"type": "calibration", "record": {"repetition": 0}})
    atomic.append_jsonl(progress, {"type": "repetition", "record": {"name": "a", "flops": 10.0}})
    atomic.append_jsonl(progress, {"type": "repetition", "record": {"name": "b", "flops": None}})
    with open(progress, "a", encoding="utf-8") as torn:  # a kill mid-write
        torn.write('{"type": "repetition", "record": {"name": "c", "fl')
    assert flops_recorded(progress) == frozenset({"a"})


def test_calibration_gemm_measures_something_plausible():
    import torch

    gflops = calibrate.gemm_gflops(torch.device("cpu"), 128, calls=3)
    assert 0.01 < gflops < 1e5


def test_dataset_says_how_many_training_images_were_used():
    block = {"train_count": 60000, "train_used": 60000, "test_count": 10000}

    def run(images, status="ok", tested=10000):
        return schema.Training("t", "m", "v", "cpu", 0, status, None, 1, 1.0, [], None, 0.99,
                               images, tested, 1.0)

    assert assemble.dataset_used(block, [run(16384), run(8192)])["train_used"] == 16384
    assert assemble.dataset_used(block, [run(4096, tested=2000)])["test_used"] == 2000
    assert assemble.dataset_used(block, [run(4096, tested=2000), run(60000)])["test_used"] == 10000
    assert assemble.dataset_used(block, [run(None, "failed")])["train_used"] == 0
    assert assemble.dataset_used(block, [])["train_used"] == 0
    assert assemble.dataset_used(None, []) is None
