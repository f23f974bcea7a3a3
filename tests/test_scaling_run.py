"""`run --profile scaling` end to end (issue 14): real ranks over gloo, on the bundled subset.

Each end-to-end run trains only the RNN classifier (`--only rnn`, the cheap model) at world
sizes 1 and 2 with one thread per rank. One run goes through torchrun itself, the way a user
launches it on a cluster; the fault runs go through `mnistbench run`, which starts the ranks
through torchrun's API.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch

from bench import cli
from bench.scaling import checks
from bench.store import results
from tests.conftest import ROOT, run_cli

SUBSET = str(ROOT / "bench" / "data" / "assets" / "mnist-subset")
RNN_ONLY = ["--only", "rnn", "--data-dir", SUBSET, "--threads", "1"]
WS1, WS2 = ("scaling/rnn-classifier/native/ws1/seed0", "scaling/rnn-classifier/native/ws2/seed0")
# The elastic agent stops the other ranks of a dead one with SIGTERM, then SIGKILL after its
# grace period (30 s); a scaling run on the subset takes about 25 s on 2 busy cores.
RUN_BOUND_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _left_behind(marker: str) -> list[str]:
    """Processes still alive whose command line mentions `marker` (the run's directory)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if marker in " ".join(proc.info["cmdline"] or []) and proc.pid != os.getpid():
                found.append(f"{proc.pid}: {' '.join(proc.info['cmdline'])}")
        except psutil.Error:
            pass
    return found


def _by_name(out: Path) -> dict[str, dict]:
    return {s["name"]: s for s in results.load(out / "results.json")["scaling"]}


@pytest.fixture(scope="module")
def torchrun_run(tmp_path_factory):
    """`torchrun --nnodes 1 --nproc-per-node 2 --rdzv-backend c10d --rdzv-endpoint HOST:PORT
    -m bench run --profile scaling ...`: (run dir, finished process)."""
    out = tmp_path_factory.mktemp("scaling") / "run"
    logs = out.parent / "torchrun-logs"  # torchrun's own per-rank files (default: /tmp)
    env = {**os.environ, "MNISTBENCH_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("MNISTBENCH_KILL_RANK", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node",
           "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{_free_port()}",
           "--log-dir", str(logs), "-m", "bench", "run", "--profile", "scaling", "--device",
           "cpu", *RNN_ONLY, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_BOUND_S * 3,
                          env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_torchrun_runs_world_sizes_1_and_2_over_gloo_and_rank_0_writes_it(torchrun_run):
    out, proc = torchrun_run
    doc = results.load(out / "results.json")
    assert doc["status"] == "complete" and doc["profile"] == "scaling"
    launch = doc["config"]["launch"]
    assert launch["launcher"] == "torchrun" and launch["world_size"] == 2
    assert [r["rank"] for r in launch["ranks"]] == [0, 1]
    assert len({r["pid"] for r in launch["ranks"]}) == 2
    one, two = _by_name(out)[WS1], _by_name(out)[WS2]
    for record, size in ((one, 1), (two, 2)):
        assert record["status"] == "ok" and record["backend"] == "gloo"
        assert record["world_size"] == size and record["nodes"] == 1
        assert record["devices"] == ["cpu (1 thread)"] * size
        assert [r["host"] for r in record["ranks"]] == [socket.gethostname()] * size
        assert record["images_per_s"] > 0 and record["step_s"]["rounds"] >= 20
        assert 0 <= record["comm_share"] < 1 and record["training"]["status"] == "ok"
    assert one["efficiency"] == 1.0 and two["efficiency"] > 0
    assert two["per_rank_batch"] == [64, 64] and one["per_rank_batch"] == [128]
    assert one["lr"] == two["lr"] and "same global batch" in two["lr_rule"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    assert proc.stderr.count("mnistbench: scaling/rnn-classifier") == 2  # rank 0 alone says


def test_world_size_2_reaches_the_same_accuracy_as_world_size_1(torchrun_run):
    """At the same global batch DDP's averaged gradient is the single-device one (no BatchNorm
    in the RNN classifier): the curves agree to float summation order, far inside the noise of
    a 1000-image test set (0.1 % an image)."""
    out, _ = torchrun_run
    one, two = _by_name(out)[WS1]["training"], _by_name(out)[WS2]["training"]
    assert [p["images"] for p in one["curve"]] == [p["images"] for p in two["curve"]]
    assert one["curve"][-1]["test_acc"] > 0.25  # it learned something: 10 % is chance
    for a, b in zip(one["curve"], two["curve"], strict=True):
        assert abs(a["test_acc"] - b["test_acc"]) <= 0.005
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-3)


def test_the_report_shows_the_scaling_table_and_chart(torchrun_run):
    out, _ = torchrun_run
    html = (out / "report.html").read_text()
    section = html[html.index('<section id="scaling">'):]
    assert "rnn-classifier/native" in section and "<svg" in section


def test_a_rank_killed_mid_run_ends_the_run_keeping_the_finished_records(tmp_path):
    out, temp = tmp_path / "run", tmp_path / "temp"
    temp.mkdir()
    start = time.monotonic()
    proc = run_cli("run", "--profile", "scaling", "--nproc-per-node", "2", "--device", "cpu",
                   *RNN_ONLY, "--out", str(out),
                   env={"MNISTBENCH_KILL_RANK": f"1:{WS2}", "TMPDIR": str(temp)},
                   timeout=RUN_BOUND_S * 3)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]  # a recorded failure, like a failed case
    assert elapsed < RUN_BOUND_S, elapsed
    assert _left_behind(str(out)) == []
    # the elastic agent's per-rank error files were read, then removed with their folder
    assert [p.name for p in temp.iterdir() if "elastic" in p.name] == []
    records = _by_name(out)
    assert records[WS1]["status"] == "ok"  # finished before the kill: kept
    lost = records[WS2]
    assert lost["status"] == "failed" and lost["images_per_s"] is None
    assert "rank 1" in lost["error"] and "SIGKILL" in lost["error"]
    ranks = {r["rank"]: r for r in lost["ranks"]}
    assert ranks[1]["status"] == "failed" and ranks[1]["error"] == "was killed by signal SIGKILL"
    assert ranks[0]["status"] == "failed" and ranks[0]["error"]
    assert f"{WS2} failed: rank 1 (pid {ranks[1]['pid']}) was killed by signal SIGKILL" in (
        proc.stderr)
    assert results.load(out / "results.json")["status"] == "complete"
    assert (out / "report.html").exists() and not (out / ".lock").exists()


def test_a_rendezvous_that_never_completes_ends_at_its_timeout_with_one_line(tmp_path):
    out = tmp_path / "run"
    start = time.monotonic()
    proc = run_cli("run", "--profile", "scaling", "--nproc-per-node", "1", "--nnodes", "2",
                   "--rdzv-endpoint", f"127.0.0.1:{_free_port()}", "--rdzv-timeout", "3",
                   "--device", "cpu", *RNN_ONLY, "--out", str(out), timeout=120)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors == [proc.stderr.strip().splitlines()[-1]]
    assert "did not complete within 3 s: 2 nodes were expected" in errors[0]
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - start < 60
    assert not out.exists() and _left_behind(str(out)) == []


@pytest.mark.parametrize("args, message", [
    (["--nproc-per-node", "3", "--threads", "1"],
     "--nproc-per-node 3 with 1 thread per rank needs 3 CPU cores, but this node has 2 usable: "
     "a world larger than the devices"),
    (["--backend", "nccl"], "--backend nccl needs CUDA GPUs, but this run is on the CPU"),
    (["--nnodes", "2"], "--nnodes 2 needs --rdzv-endpoint HOST:PORT"),
    (["--rdzv-endpoint", "node0"], "--rdzv-endpoint 'node0' is not HOST:PORT"),
    (["--resume"], "--resume: a scaling run cannot be continued"),
    (["--only", "nothing"], "--only 'nothing' matches nothing in profile 'scaling'"),
])
def test_bad_scaling_input_is_one_line_and_exit_2_before_anything_starts(
        args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(checks, "usable_cores", lambda: 2)
    out = tmp_path / "run"
    code = cli.main(["run", "--profile", "scaling", "--device", "cpu", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("mnistbench: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_launch_options_belong_to_the_scaling_profile(capsys):
    assert cli.main(["run", "--profile", "quick", "--nproc-per-node", "2"]) == 2
    assert "--nproc-per-node is for the data-parallel profile; add --profile scaling" in (
        capsys.readouterr().err)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_same_command_runs_over_nccl_on_one_gpu(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("run", "--profile", "scaling", "--nproc-per-node", "1", "--device", "cuda",
                   *RNN_ONLY, "--out", str(out), timeout=RUN_BOUND_S * 3)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = _by_name(out)[WS1]
    assert record["status"] == "ok" and record["backend"] == "nccl"
    assert record["device"] == "cuda" and record["devices"][0].startswith("cuda:0 (")
    assert record["images_per_s"] > 0 and record["training"]["status"] == "ok"
