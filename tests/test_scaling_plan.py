"""bench.scaling.plan and checks: world sizes, DistributedSampler-style shards, the LR rule, the
comm-time arithmetic and the launch checks — no process group needed."""

from __future__ import annotations

import math
import re

import pytest
import torch

from bench.errors import UsageError
from bench.scaling import checks, plan
from bench.scaling.ddp import union_length
from bench.timing.profiles import PROFILES, SCALING, SCALING_RNN_TARGET


@pytest.mark.parametrize("total, per_node, sizes", [
    (1, 1, [1]), (2, 2, [1, 2]), (3, 3, [1, 2, 3]), (6, 6, [1, 2, 4, 6]),
    (8, 8, [1, 2, 4, 8]), (16, 8, [1, 2, 4, 8, 16]), (12, 4, [1, 2, 4, 8, 12])])
def test_world_sizes_double_up_to_the_world_and_include_one_full_node(total, per_node, sizes):
    assert plan.world_sizes(total, per_node) == sizes


@pytest.mark.parametrize("n, batch, world", [(60000, 128, 2), (2000, 128, 3), (1000, 128, 8),
                                             (130, 128, 4), (10, 4, 3)])
def test_each_sample_goes_to_exactly_one_rank_per_epoch(n, batch, world):
    """Like DistributedSampler: one shared permutation; every index lands on one rank once, and
    at every step the ranks' batches together are the single-device batch."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    seen = []
    for step in range(math.ceil(n / batch)):
        global_batch = order[step * batch:(step + 1) * batch]
        shards = [plan.shard(global_batch, r, world) for r in range(world)]
        assert sorted(torch.cat(shards).tolist()) == sorted(global_batch.tolist())
        seen += torch.cat(shards).tolist()
    assert sorted(seen) == list(range(n))  # every sample once, none twice, none left out


def test_shard_sizes_split_a_batch_evenly_and_add_up():
    assert plan.shard_sizes(128, 1) == [128]
    assert plan.shard_sizes(128, 2) == [64, 64]
    assert plan.shard_sizes(128, 3) == [43, 43, 42]
    batch = torch.arange(128)
    assert [len(plan.shard(batch, r, 3)) for r in range(3)] == plan.shard_sizes(128, 3)


def test_the_lr_rule_keeps_the_lr_at_the_same_global_batch_and_says_so():
    assert plan.lr_at(0.4, 1) == plan.lr_at(0.4, 8) == 0.4
    assert "same global batch" in plan.LR_RULE


def test_items_are_every_model_at_every_world_size_and_only_filters_them():
    profile, cpu = PROFILES["scaling"], torch.device("cpu")
    items = plan.items(profile, cpu, 0, 2, 2, None)
    assert [i.name for i in items] == [
        "scaling/resnet/plain/ws1/seed0", "scaling/resnet/plain/ws2/seed0",
        "scaling/rnn-classifier/native/ws1/seed0", "scaling/rnn-classifier/native/ws2/seed0"]
    assert items[1].model_key == items[0].model_key == "scaling/resnet/plain/seed0"
    only = plan.items(profile, cpu, 3, 2, 2, re.compile("rnn"))
    assert [i.name for i in only] == ["scaling/rnn-classifier/native/ws1/seed3",
                                      "scaling/rnn-classifier/native/ws2/seed3"]
    with pytest.raises(UsageError, match="--only 'nope' matches nothing"):
        plan.items(profile, cpu, 0, 2, 2, re.compile("nope"))


def test_the_scaling_profile_has_its_spec_and_a_time_to_target_run_per_model():
    profile, spec = PROFILES["scaling"], SCALING["scaling"]
    assert spec.warmup_steps >= 1 and spec.timed_steps >= 3 and spec.nosync_steps >= 3
    assert spec.collective_timeout_s > 0 and spec.rdzv_timeout_s > 0
    assert {s.kind for s in profile.train} == {"cnn", "rnn"}
    assert all(dict(s.trainer).get("stop_at_target") for s in profile.train)


def test_the_scaling_rnn_runs_to_a_target_it_can_reach_and_the_cnn_to_99_percent():
    from bench.timing.cases import TrainCase
    from bench.training.runs import train_config

    profile = PROFILES["scaling"]
    targets = {s.kind: train_config(TrainCase("x", s, 0, "cpu"), profile).target_acc
               for s in profile.train}
    assert targets["cnn"] == profile.target_acc == 0.99
    assert targets["rnn"] == SCALING_RNN_TARGET < 0.99


def test_union_length_counts_overlapping_all_reduces_once():
    assert union_length([]) == 0.0
    assert union_length([(0.0, 1.0), (0.5, 2.0), (3.0, 4.0)]) == pytest.approx(3.0)
    assert union_length([(2.0, 3.0), (0.0, 1.0), (0.2, 0.4)]) == pytest.approx(2.0)


def test_nccl_is_refused_on_the_cpu_and_gloo_is_the_cpu_default():
    assert checks.backend_for("cpu", None) == "gloo"
    with pytest.raises(UsageError, match="--backend nccl needs CUDA GPUs"):
        checks.backend_for("cpu", "nccl")


def test_a_world_larger_than_the_devices_is_refused(monkeypatch):
    monkeypatch.setattr(checks, "usable_cores", lambda: 2)
    checks.check_devices("cpu", 2, 1, "--nproc-per-node")
    with pytest.raises(UsageError, match="needs 3 CPU cores, but this node has 2 usable"):
        checks.check_devices("cpu", 3, 1, "--nproc-per-node")
    with pytest.raises(UsageError, match="needs 4 CPU cores"):
        checks.check_devices("cpu", 2, 2, "--nproc-per-node")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(UsageError, match="this node has 1 CUDA GPU, one per rank"):
        checks.check_devices("cuda", 2, 1, "--nproc-per-node")
    assert checks.threads_per_rank(None, 2) == 1 and checks.threads_per_rank(3, 2) == 3


def test_the_rendezvous_endpoint_is_host_port_and_needed_for_several_nodes():
    assert checks.check_endpoint(None, 1) == "127.0.0.1:0"
    assert checks.check_endpoint("node0:29400", 2) == "node0:29400"
    with pytest.raises(UsageError, match="--nnodes 2 needs --rdzv-endpoint"):
        checks.check_endpoint(None, 2)
    for bad in ("node0", "node0:", ":29400", "node0:http", "node0:70000"):
        with pytest.raises(UsageError, match="is not HOST:PORT"):
            checks.check_endpoint(bad, 1)
