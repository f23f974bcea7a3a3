"""scripts/recount_flops.py: an older results.json's CNN FLOPs recounted, nothing measured moved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.store import validate
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "reports/examples/cpu-2core-shortcuts/results.json"

pytestmark = pytest.mark.usefixtures("one_thread")


def _script():
    return load_script("recount_flops")


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


@pytest.mark.parametrize("content", [None, "{not json", '{"schema_version": 2}'])
def test_a_file_that_is_not_a_results_json_is_one_line_exit_2_and_left_alone(
        tmp_path, capsys, content):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert _script().main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recount_flops: ") and err.count("\n") == 1
    assert (path.read_text() if content is not None else None) == content


def test_a_schema_1_file_is_refused(capsys):
    old = ROOT / "reports/examples/cpu-2core-quick-1thread/results.json"
    before = old.read_bytes()
    assert _script().main([str(old)]) == 2
    assert "schema-1" in capsys.readouterr().err
    assert old.read_bytes() == before
