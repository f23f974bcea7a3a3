"""scripts/recount_flops.py: an older results.json's CNN FLOPs recounted, nothing measured moved."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bench.store import validate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "reports/examples/cpu-2core-shortcuts/results.json"

pytestmark = pytest.mark.usefixtures("one_thread")


def _script():
    spec = importlib.util.spec_from_file_location("recount_flops",
                                                  ROOT / "scripts" / "recount_flops.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_overcounted_train_step_is_recounted_and_its_timing_kept(tmp_path):
    results = json.loads(EXAMPLE.read_text())
    keep = ("cnn/mobilenetv2/paper/train_step/b64", "cnn/resnet/plain/inference/b64")
    results["benchmarks"] = [b for b in results["benchmarks"] if b["name"] in keep]
    right = {b["name"]: b["flops"] for b in results["benchmarks"]}
    stale = results["benchmarks"][[b["name"] for b in results["benchmarks"]].index(keep[0])]
    stale["flops"], stale["gflops"] = 7 * stale["flops"], 1e6  # as the old formula overcounted
    medians = {b["name"]: b["stats"]["median"] for b in results["benchmarks"]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))

    changed = _script().recount(path)

    after = json.loads(path.read_text())
    validate.validate(after)
    assert changed == [f"{keep[0]}: {7 * right[keep[0]]:.4g} -> {right[keep[0]]:.4g} FLOPs"]
    for record in after["benchmarks"]:
        assert record["flops"] == right[record["name"]]
        assert record["stats"]["median"] == medians[record["name"]]
        assert record["gflops"] == pytest.approx(record["flops"] / record["stats"]["median"] / 1e9)
    assert after["config"]["recounted_flops"] == _script().FORMULA_COMMIT


def test_a_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert _script().main([str(tmp_path / "nope.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
