"""bench.timing.records: a case's repetition entries (as a worker writes them to
progress.jsonl) and the Benchmark record folded from them."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from pytest_benchmark.stats import Metadata

from bench.store import schema
from bench.timing.cases import Case
from bench.timing.records import benchmark_record, repetition_entry

CASE = Case("rnn/loop/forward/b64-t28-i28-h128-l1-uni", ("rnn", "rnn-seq_len"), "rnn", "loop",
            "cpu", {"pass": "forward", "batch": 64, "seq_len": 28})
SKIPPED = Case("rnn/gpuonly/forward/b64", ("rnn",), "rnn", "gpuonly", "cpu", {"pass": "forward"},
               skip_reason="gpuonly runs only on cuda")


def native_record(samples: list[float]) -> dict:
    """pytest-benchmark's own JSON record of one pass: its Metadata over a stand-in for the
    fixture it reads its names from."""
    fixture = SimpleNamespace(name="test_case", fullname="bench::test_case", group=None,
                              param=None, params=None, extra_info={},
                              cprofile_stats=None, has_error=False)
    meta = Metadata(fixture, iterations=1, options={"timer": "perf_counter", "min_rounds": 5})
    for sample in samples:
        meta.update(sample)
    return meta.as_dict(include_data=True)


def ok_entry(rep: int, samples: list[float], first_call_s: float = 0.5, **extra) -> dict:
    entry = repetition_entry(CASE, rep, "ok", samples=samples, first_call_s=first_call_s,
                             flops=2e6, native=native_record(samples[-2:]),
                             passes=[{"rounds": len(samples), "control_s": 1e-3}], **extra)
    return json.loads(json.dumps(entry))  # as it comes back from progress.jsonl


def test_ok_entry_pools_every_pass_with_pytest_benchmarks_statistics():
    samples = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    passes = [{"rounds": 3, "control_s": 0.002}, {"rounds": 5, "control_s": 0.003}]
    entry = repetition_entry(CASE, 1, "ok", samples=samples, first_call_s=0.25, flops=1e6,
                             warnings=["TracerWarning: x"], native=native_record(samples[3:]),
                             passes=passes)
    assert (entry["name"], entry["device"], entry["repetition"]) == (CASE.name, "cpu", 1)
    assert (entry["status"], entry["error"], entry["first_call_s"]) == ("ok", None, 0.25)
    stats = entry["stats"]
    assert stats["samples"] == samples and stats["rounds"] == 8
    assert (stats["min"], stats["max"], stats["median"], stats["mean"]) == (1.0, 8.0, 4.5, 4.5)
    assert (stats["q1"], stats["q3"], stats["iqr"]) == (2.5, 6.5, 4.0)  # its quartile rule
    # a pass given without the control's parts records them as unknown (null)
    assert entry["passes"] == [{**p, "control_gemm_s": None, "control_recurrence_s": None,
                                   "control_fork_s": None}
                               for p in passes]
    assert entry["warnings"] == ["TracerWarning: x"] and entry["flops"] == 1e6
    native = entry["pytest_benchmark"]  # pytest-benchmark's own JSON layout, plain values
    assert native["params"] == {"case": CASE.name} and native["param"] == CASE.name
    # the last pass's record, its statistics those of every pass's rounds pooled
    assert native["stats"]["data"] == samples and native["stats"]["rounds"] == 8
    assert native["stats"]["median"] == 4.5 and native["stats"]["iterations"] == 1
    json.dumps(entry)  # goes to progress.jsonl as it is


def test_failed_entry_has_no_statistics():
    entry = repetition_entry(CASE, 0, "failed", "RuntimeError: boom")
    assert (entry["status"], entry["error"], entry["stats"]) == ("failed", "RuntimeError: boom",
                                                                None)
    assert entry["first_call_s"] is None and entry["warnings"] == []
    assert "pytest_benchmark" not in entry


def test_record_pools_repetitions_and_measures_their_spread():
    entries = [ok_entry(1, [1.2, 1.2, 1.2], first_call_s=0.9, warnings=["b", "a"]),
               ok_entry(0, [1.0, 1.0, 1.0], first_call_s=3.0, warnings=["a"])]
    record = benchmark_record(CASE, entries, compiles=True)
    assert isinstance(record, schema.Benchmark)
    assert [r.repetition for r in record.repetitions] == [0, 1]  # sorted, not arrival order
    assert record.status == "ok" and record.error is None
    assert record.stats.rounds == 6 and record.stats.median == pytest.approx(1.1)
    assert record.spread == pytest.approx(0.2) and record.unstable  # 20 % > 10 %
    assert record.noisy  # over the pooled rounds: two tight repetitions 20 % apart scatter
    assert record.compile_s == record.first_call_s == 3.0  # the first repetition's first call
    assert record.warnings == ["a", "b"]
    assert (record.group, record.groups) == ("rnn", ["rnn", "rnn-seq_len"])
    assert record.gflops == pytest.approx(2e6 / 1.1 / 1e9)
    json.dumps(record.as_dict())


def test_compile_time_only_for_compiling_styles():
    record = benchmark_record(CASE, [ok_entry(0, [1.0, 1.0, 1.0], first_call_s=2.0)],
                              compiles=False)
    assert record.compile_s is None and record.first_call_s == 2.0
    assert record.spread == 0.0 and not record.unstable


def test_scattered_rounds_are_noisy():
    record = benchmark_record(CASE, [ok_entry(0, [1.0, 1.0, 2.0, 2.0, 3.0, 3.0])], False)
    assert record.noisy and not record.unstable


def test_one_failed_repetition_fails_the_case_but_keeps_the_others():
    entries = [ok_entry(0, [1.0, 1.0, 1.0]),
               repetition_entry(CASE, 1, "failed", "the worker process of repetition 1 died")]
    record = benchmark_record(CASE, entries, compiles=False)
    assert record.status == "failed" and "repetition 1 died" in record.error
    assert record.stats.rounds == 3  # what was measured is still reported
    assert [r.status for r in record.repetitions] == ["ok", "failed"]


def test_a_case_with_nothing_run_is_failed_and_says_so():
    record = benchmark_record(CASE, [], compiles=False)
    assert (record.status, record.error) == ("failed", "no repetition finished")
    assert record.stats is None and record.spread is None and record.gflops is None


def test_skipped_case_keeps_its_reason():
    record = benchmark_record(SKIPPED, [], compiles=False)
    assert (record.status, record.error) == ("skipped", "gpuonly runs only on cuda")
    assert record.stats is None and record.repetitions == [] and not record.noisy
    assert record.params == {"pass": "forward"} and record.params is not SKIPPED.params
