"""Scaling records (issue 14): built by bench.scaling.records, validated by the schema's derived
validator, assembled from progress, drawn by `report` and matched by `compare` — on synthetic
measurements, no process group needed."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from bench.errors import ResultsError
from bench.scaling import plan, records
from bench.scaling.ddp import Window
from bench.store import atomic, results, rundir, schema
from bench.timing.profiles import PROFILES, SCALING
from reports import scaling as report_scaling
from reports.compare import write_compare
from reports.load import load_run
from reports.report import write_report
from tests.report_samples import make_results

PROFILE, SPEC = PROFILES["scaling"], SCALING["scaling"]


def _launch(world: int = 2, per_node: int = 2, backend: str = "gloo") -> dict:
    ranks = [{"rank": r, "local_rank": r % per_node, "node": r // per_node,
              "host": f"node{r // per_node}", "pid": 1000 + r, "device": "cpu (1 thread)"}
             for r in range(world)]
    return {"backend": backend, "device": "cpu", "threads": 1, "world_size": world,
            "nproc_per_node": per_node, "ranks": ranks}


def _items(world: int = 2, per_node: int = 2) -> dict[str, plan.Item]:
    items = plan.items(PROFILE, torch.device("cpu"), 0, world, per_node, None)
    return {i.name: i for i in items}


def _training(acc: float, ttt: float | None) -> schema.Training:
    curve = [schema.CurvePoint(30000, 0.5, 40.0, acc - 0.01, 0.2),
             schema.CurvePoint(60000, 1.0, 80.0, acc, 0.05)]
    return schema.Training(
        name="scaling/resnet/plain/ws1/seed0", model="resnet", variant="plain",
        device="cpu", seed=0, status="ok", error=None, params_count=75002, flops=1e7,
        epochs=[schema.Epoch(1, 80.0, 0.1, acc)], time_to_target_s=ttt, target_acc=0.99,
        train_images=60000, test_images=10000, images_per_s=750.0, curve=curve,
        reached_target=ttt is not None, eval_s=10.0)


WS1 = Window(step_s=[0.20, 0.21, 0.19, 0.20], comm_s=[0.0, 0.0, 0.0, 0.0],
             nosync_s=[0.20, 0.20])
WS2 = Window(step_s=[0.125, 0.125, 0.130, 0.120], comm_s=[0.05, 0.05, 0.04, 0.06],
             nosync_s=[0.10, 0.10])


def _records(launch: dict | None = None) -> list[schema.Scaling]:
    launch, items = launch or _launch(), _items()
    one = records.ok(items["scaling/resnet/plain/ws1/seed0"], launch, PROFILE, SPEC, WS1,
                     _training(0.9903, 80.0), None)
    two = records.ok(items["scaling/resnet/plain/ws2/seed0"], launch, PROFILE, SPEC, WS2,
                     _training(0.9901, 45.0), one.images_per_s)
    lost = records.failed(items["scaling/rnn-classifier/native/ws2/seed0"], launch, PROFILE,
                          SPEC, "rank 1 (pid 1001) was killed by signal SIGKILL",
                          {1: "was killed by signal SIGKILL"})
    never = records.skipped(items["scaling/rnn-classifier/native/ws1/seed0"], launch, PROFILE,
                            SPEC, "not run: the launch ended")
    return [one, two, lost, never]


def _doc(**kwargs) -> dict:
    doc = make_results(cnn=False, training=False, sweeps=False, failures=False,
                       styles=("loop", "native"), **kwargs)
    doc["profile"] = "scaling"
    doc["scaling"] = [r.as_dict() for r in _records()]
    return doc


def test_an_ok_record_holds_throughput_efficiency_and_the_comm_share():
    one, two, lost, never = _records()
    assert one.images_per_s == pytest.approx(128 * 4 / 0.80)  # 640 images/s
    assert one.efficiency == 1.0 and one.comm_share == 0.0
    assert two.images_per_s == pytest.approx(128 * 4 / 0.50)  # 1024 images/s
    assert two.efficiency == pytest.approx(1024 / (2 * 640))
    assert two.comm_s == pytest.approx(0.05) and two.comm_share == pytest.approx(0.05 / 0.125)
    assert two.nosync_step_s == pytest.approx(0.10)
    assert two.exposed_comm_share == pytest.approx(1 - 0.10 / 0.125)
    assert two.per_rank_batch == [64, 64] and two.global_batch == 128
    assert two.lr == one.lr == 0.4 and two.lr_rule == plan.LR_RULE
    assert two.devices == ["cpu (1 thread)"] * 2 and [r.rank for r in two.ranks] == [0, 1]
    assert lost.status == "failed" and lost.images_per_s is None
    assert [(r.status, r.error) for r in lost.ranks] == [
        ("ok", None), ("failed", "was killed by signal SIGKILL")]
    assert never.status == "skipped" and never.ranks[0].status == "skipped"


def test_records_on_two_nodes_count_the_nodes_of_their_ranks():
    launch = _launch(world=4, per_node=2)
    items = _items(world=4, per_node=2)
    assert sorted(i.world_size for i in items.values() if "rnn" in i.name) == [1, 2, 4]
    four = records.skipped(items["scaling/resnet/plain/ws4/seed0"], launch, PROFILE, SPEC, "-")
    two = records.skipped(items["scaling/resnet/plain/ws2/seed0"], launch, PROFILE, SPEC, "-")
    assert (four.nodes, two.nodes) == (2, 1)
    assert [r.host for r in four.ranks] == ["node0", "node0", "node1", "node1"]


def test_a_results_file_with_scaling_records_validates_and_older_files_need_none():
    assert results.validate(_doc())["scaling"][1]["world_size"] == 2
    old = _doc()
    del old["scaling"]
    results.validate(old)


@pytest.mark.parametrize("where, change, message", [
    (1, lambda r: r["ranks"].pop(), r"scaling\[1\]\.ranks holds 1 entries but .* is 2"),
    (1, lambda r: r["per_rank_batch"].__setitem__(0, 60), "adds up to 124, not the global"),
    (1, lambda r: r.__setitem__("backend", "mpi"), r"backend should be one of gloo, nccl"),
    (1, lambda r: r.__setitem__("step_s", None), r"step_s should be measured in an ok record"),
    (1, lambda r: r.__setitem__("images_per_s", 0.0), "a measured rate must be positive"),
    (2, lambda r: r["ranks"][1].__setitem__("status", "dead"), r"ranks\[1\]\.status should be"),
    (0, lambda r: r.__setitem__("world_size", "one"), r"world_size should be an integer"),
    (0, lambda r: r.pop("lr_rule"), r"scaling\[0\]\.lr_rule is missing"),
])
def test_bad_scaling_records_are_refused_naming_the_path(where, change, message):
    doc = _doc()
    change(doc["scaling"][where])
    with pytest.raises(ResultsError, match=message):
        results.validate(doc)


def test_assembled_results_rebuild_every_saved_record(tmp_path):
    """rank 0's progress entries -> results.json: the same records, nested ones included, a
    later record of an item replacing the earlier one (the launcher's completion)."""
    doc = _doc()
    header = {k: v for k, v in doc.items() if k not in ("scaling", "benchmarks", "training",
                                                        "calibration", "pytest_benchmark_json")}
    first = _records()
    for record in first:
        records.save(tmp_path, record)
    replaced = copy.deepcopy(first[2].as_dict())
    replaced["error"] = "completed by the launcher"
    atomic.append_jsonl(tmp_path / rundir.PROGRESS, {"type": "scaling", "record": replaced})
    path = records.write_results(tmp_path, header, complete=True)
    out = results.load(path)
    assert [s["name"] for s in out["scaling"]] == [r.name for r in first]
    assert out["scaling"][2]["error"] == "completed by the launcher"
    assert out["scaling"][0] == first[0].as_dict()
    assert out["dataset"]["train_used"] == 60000  # the time-to-target runs' training set
    assert out["status"] == "complete" and out["benchmarks"] == [] and out["training"] == []


def test_the_report_draws_throughput_and_efficiency_against_world_size(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_doc()))
    write_report(path)
    html = (tmp_path / "report.html").read_text()
    section = html[html.index('<section id="scaling">'):]
    section = section[:section.index("</section>")]
    assert 'href="#scaling"' in html
    assert "Throughput" in section and "Efficiency vs world size 1" in section
    assert section.count("<svg") == 1
    assert "1.02 k images/s" in section and "80.0 %" in section  # ws2: 1024 images/s, 0.8
    assert "resnet/plain: 1.02 k images/s on 2 ranks against 640 images/s on one" in section
    assert "failed: rank 1 (pid 1001) was killed by signal SIGKILL" in section
    assert "same global batch" in section  # the LR rule is stated
    assert "## Data-parallel scaling" in (tmp_path / "summary.md").read_text()
    failures = html[html.index('<section id="failures">'):]
    assert "scaling/rnn-classifier/native/ws2/seed0" in failures  # failed and skipped listed
    assert "not run: the launch ended" in failures[:failures.index("</section>")]


def test_a_report_without_scaling_records_has_no_scaling_section(tmp_path):
    path = tmp_path / "results.json"
    doc = _doc()
    doc["scaling"] = []
    path.write_text(json.dumps(doc))
    write_report(path)
    assert 'id="scaling"' not in (tmp_path / "report.html").read_text()
    assert report_scaling.section(load_run(path), "x").table is None


def test_compare_matches_scaling_records_across_machines(tmp_path):
    paths = []
    for i, (fingerprint, factor) in enumerate((("aaaa", 1.0), ("bbbb", 2.0))):
        doc = _doc(fingerprint=fingerprint, run_id=f"20260101-00000{i}-abcd")
        for record in doc["scaling"]:
            if record["images_per_s"]:
                record["images_per_s"] *= factor
        paths.append(tmp_path / f"r{i}.json")
        paths[-1].write_text(json.dumps(doc))
    table = report_scaling.compare_table([load_run(p) for p in paths])
    rows = {row[0]: row for row in table.rows}
    assert rows["scaling/resnet/plain/ws2/seed0"][1:] == (
        "1.02 k images/s, gloo on cpu", "80.0 %", "2.05 k images/s, gloo on cpu", "80.0 %",
        "2.00×")
    assert rows["scaling/rnn-classifier/native/ws2/seed0"][1] == "failed"
    write_compare(paths, tmp_path / "compare.html")
    html = (tmp_path / "compare.html").read_text()
    assert 'id="scaling"' in html and "scaling/resnet/plain/ws1/seed0" in html
