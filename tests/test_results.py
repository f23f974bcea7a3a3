"""bench.store.results: run ids, record identity, validation and the load-error corpus."""

from __future__ import annotations

import ast
import copy
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.errors import ResultsError
from bench.store import atomic
from bench.store import results as r


def _valid() -> dict:
    """A small but complete schema_version 1 file: one ok case, one failed case, one training."""
    stats = {"min": 0.010, "max": 0.014, "median": 0.012, "mean": 0.012, "stddev": 0.0016,
             "iqr": 0.002, "q1": 0.011, "q3": 0.013, "rounds": 5,
             "samples": [0.012, 0.010, 0.014, 0.011, 0.013]}
    return {
        "schema_version": 1, "tool": "mnistbench", "run_id": "20261127-013000-3f9c",
        "created_at": "2026-11-27T01:30:00Z", "finished_at": None, "status": "partial",
        "profile": "smoke", "config": {"profile": "smoke", "device": "cpu", "threads": 2},
        "machine": {"host_processor_model_name": "Example CPU", "host_processor_core_count": 2,
                    "host_processor_vcpu_count": 4, "host_memory_capacity": "15.5 GiB",
                    "accelerator_model_name": None, "accelerators_per_node": 0,
                    "accelerator_memory_capacity": None, "operating_system": "Linux",
                    "fingerprint": "0123456789abcdef"},
        "software": {"torch": "2.11.0"},
        "commit": {"sha": None, "dirty": None},
        "dataset": {"name": "mnist", "source": "bundled", "location": "/x", "train_count": 2000,
                    "test_count": 1000, "train_used": 2000, "verified": True, "subset": True,
                    "files": {}, "notes": []},
        "benchmarks": [
            {"name": "rnn/loop/forward/b64-t28-i28-h128-l1-uni", "group": "rnn",
             "implementation": "loop", "device": "cpu", "params": {"batch": 64},
             "stats": stats, "compile_s": None, "status": "ok", "error": None,
             "noisy": False, "warnings": []},
            {"name": "rnn/compile/forward/b64-t28-i28-h128-l1-uni", "group": "rnn",
             "implementation": "compile", "device": "cpu", "params": {"batch": 64},
             "stats": None, "compile_s": None, "status": "failed",
             "error": "RuntimeError: no compiler", "noisy": None, "warnings": []},
        ],
        "training": [
            {"model": "rnn", "variant": "native", "device": "cpu", "seed": 0,
             "params_count": 20490, "flops": 1234567, "target_acc": 0.9,
             "epochs": [{"epoch": 1, "time_s": 1.5, "train_loss": 0.4, "test_acc": 0.91}],
             "time_to_target_s": 1.5, "train_images": 1000, "test_images": 500,
             "images_per_s": 666.7, "status": "ok", "error": None},
        ],
        "pytest_benchmark_json": "pytest_benchmark.json",
    }


def test_new_run_id_and_timestamps():
    fixed = datetime(2026, 11, 27, 1, 30, 0, tzinfo=timezone.utc)
    assert re.fullmatch(r"20261127-013000-[0-9a-f]{4}", r.new_run_id(fixed))
    tokyo = datetime(2026, 11, 27, 10, 30, 0, tzinfo=timezone(timedelta(hours=9)))
    assert r.new_run_id(tokyo).startswith("20261127-013000-")
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", r.new_run_id())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.utc_now_iso())


def test_validate_accepts_a_complete_file():
    current = r.validate(_valid())  # schema 1 upgraded: a schema-2 object
    assert r.validate(current) is current


def test_a_schema_1_file_reads_as_one_repetition_per_case():
    old = _valid()
    new = r.validate(old)
    assert old["schema_version"] == 1 and "repetitions" not in old["benchmarks"][0]  # a copy
    assert new["schema_version"] == 2 and new["upgraded_from"] == 1
    assert new["calibration"] is None
    ok, failed = new["benchmarks"][0], new["benchmarks"][1]
    assert [rep["stats"] for rep in ok["repetitions"]] == [old["benchmarks"][0]["stats"]]
    assert ok["groups"] == ["rnn"] and ok["unstable"] is False and ok["spread"] == 0.0
    assert failed["repetitions"][0]["status"] == "failed" and failed["noisy"] is False


def test_round_trip(tmp_path):
    path = tmp_path / "results.json"
    current = r.validate(_valid())
    atomic.write_json_atomic(path, current)
    assert r.load(path) == current
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_nan_and_inf_are_written_as_null(tmp_path):
    obj = _valid()
    obj["training"][0]["epochs"][0]["train_loss"] = float("nan")  # a diverged run
    obj["training"][0]["images_per_s"] = float("inf")
    obj["config"]["pair"] = (1, 2)
    path = tmp_path / "results.json"
    atomic.write_json_atomic(path, obj)
    loaded = r.load(path)
    assert loaded["training"][0]["epochs"][0]["train_loss"] is None
    assert loaded["training"][0]["images_per_s"] is None
    assert loaded["config"]["pair"] == [1, 2]


def test_record_id_names_kind_case_and_device():
    record = _valid()["benchmarks"][0]
    assert r.record_id("benchmark", record["name"], record["device"]) == \
        "benchmark:rnn/loop/forward/b64-t28-i28-h128-l1-uni@cpu"
    assert r.IDENTITY == ("name", "device")


def _edited(edit) -> bytes:
    obj = copy.deepcopy(_valid())
    edit(obj)
    return json.dumps(obj).encode()


def _set(obj, path, value):
    *parents, last = path
    for key in parents:
        obj = obj[key]
    obj[last] = value


LOAD_CORPUS = {
    "empty": (b"", "is empty"),
    "whitespace": (b"  \n", "is empty"),
    "truncated": (json.dumps(_valid()).encode()[:200], "truncated"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a JSON text file"),
    "garbage": (b"hello world", "not valid JSON"),
    "nan literal": (b'{"tool": "mnistbench", "x": NaN}', "not valid results JSON"),
    "array": (b"[1, 2, 3]", "holds a list"),
    "string": (b'"results"', "holds the string"),
    "other program": (b'{"name": "left-pad", "version": "1.3.0"}', "another program"),
    "pytest-benchmark": (b'{"machine_info": {}, "benchmarks": [], "version": "5.1.0"}',
                         "pytest-benchmark"),
    "newer schema": (_edited(lambda o: _set(o, ["schema_version"], 3)), "newer mnistbench"),
    "older schema": (_edited(lambda o: _set(o, ["schema_version"], 0)), "no mnistbench ever"),
    "schema as text": (_edited(lambda o: _set(o, ["schema_version"], "1")),
                       "schema_version should be an integer"),
    "missing key": (_edited(lambda o: o["benchmarks"][0]["stats"].pop("median")),
                    r"benchmarks\[0\]\.stats\.median is missing"),
    "wrong type": (_edited(lambda o: _set(o, ["benchmarks", 0, "stats", "median"], "fast")),
                   r"benchmarks\[0\]\.stats\.median should be a number, found the string"),
    "bool as int": (_edited(lambda o: _set(o, ["benchmarks", 0, "stats", "rounds"], True)),
                    r"benchmarks\[0\]\.stats\.rounds should be an integer"),
    "ok without stats": (_edited(lambda o: _set(o, ["benchmarks", 0, "stats"], None)),
                         r"benchmarks\[0\]\.stats should be an object"),
    "bad status": (_edited(lambda o: _set(o, ["benchmarks", 1, "status"], "crashed")),
                   r"benchmarks\[1\]\.status should be one of ok, failed, skipped"),
    "rounds mismatch": (_edited(lambda o: _set(o, ["benchmarks", 0, "stats", "rounds"], 4)),
                        "holds 5 values"),
    "bad sample": (_edited(lambda o: _set(o, ["benchmarks", 0, "stats", "samples", 2], None)),
                   r"samples\[2\] should be a number"),
    "params not object": (_edited(lambda o: _set(o, ["benchmarks", 0, "params"], [])),
                          r"params should be an object"),
    "bad epoch": (_edited(lambda o: _set(o, ["training", 0, "epochs", 0, "test_acc"], "91%")),
                  r"training\[0\]\.epochs\[0\]\.test_acc should be a number"),
    "missing top key": (_edited(lambda o: o.pop("machine")), "machine is missing"),
    "bad run status": (_edited(lambda o: _set(o, ["status"], "done")), "status should be one"),
    "machine field": (_edited(lambda o: o["machine"].pop("fingerprint")),
                      r"machine\.fingerprint is missing"),
}


@pytest.mark.parametrize("case", sorted(LOAD_CORPUS))
def test_load_corpus(tmp_path, case):
    content, expected = LOAD_CORPUS[case]
    path = tmp_path / "results.json"
    path.write_bytes(content)
    with pytest.raises(ResultsError, match=expected) as info:
        r.load(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_load_missing_and_directory(tmp_path):
    with pytest.raises(ResultsError, match="no such file") as info:
        r.load(tmp_path / "nope.json")
    assert str(tmp_path / "nope.json") in str(info.value)
    with pytest.raises(ResultsError, match="is a directory") as info:
        r.load(tmp_path)
    assert str(tmp_path) in str(info.value)
    atomic.write_json_atomic(tmp_path / "results.json", _valid())
    with pytest.raises(ResultsError, match=re.escape(f"try {tmp_path / 'results.json'}")):
        r.load(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions and a non-root user")
def test_load_permission_denied(tmp_path):
    path = tmp_path / "results.json"
    atomic.write_json_atomic(path, _valid())
    path.chmod(0)
    try:
        with pytest.raises(ResultsError, match="permission denied") as info:
            r.load(path)
    finally:
        path.chmod(0o644)
    assert str(path) in str(info.value)


def test_load_path_uses_no_pickle_or_eval():
    tree = ast.parse(Path(r.__file__).read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    assert not names & {"eval", "exec"}
    assert not imported & {"pickle", "marshal", "shelve"}


def test_load_unreadable_file_as_root_too(tmp_path, monkeypatch):
    # root ignores chmod 0, so simulate what a non-root user gets from the OS.
    path = tmp_path / "results.json"
    atomic.write_json_atomic(path, _valid())

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(ResultsError, match="permission denied") as info:
        r.load(path)
    assert str(path) in str(info.value)
