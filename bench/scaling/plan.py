"""What a scaling run does, decided before any rank starts: world sizes, items, shards, LR.

Sharding follows torch.utils.data.DistributedSampler on the resident tensors: every epoch one
seeded permutation, the same on every rank (a CPU generator, so it does not depend on the
device); step i's global batch is its i-th slice of `global_batch` images, and rank r of W
trains on the slice's elements r, r + W, r + 2W, ... Each image goes to exactly one rank per
epoch (the last, short batch included), and at every step the ranks' batches together are the
single-device batch, so with DDP averaging the ranks' gradients each update equals the
single-device one (up to float summation order; BatchNorm statistics are per rank).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from bench.errors import UsageError
from bench.timing.cases import TrainCase, train_cases
from bench.timing.profiles import Profile

# The learning rate at world size W, for the same global batch at every W (what this run does).
LR_RULE = ("same global batch at every world size: per-rank batch = global / W, and the "
           "single-device peak LR and schedule unchanged (DDP averages the ranks' gradients, "
           "so each update is the single-device one); the linear scaling rule (Goyal et al. "
           "2017) would apply only to a per-rank batch held fixed")


def lr_at(base_lr: float, world_size: int) -> float:
    """The peak LR at `world_size` under LR_RULE: unchanged."""
    del world_size  # the global batch does not change with it
    return base_lr


def world_sizes(total: int, per_node: int) -> list[int]:
    """1, 2, 4, ... below `total`, one full node, and `total`: e.g. (8, 8) -> 1 2 4 8,
    (6, 6) -> 1 2 4 6, (16, 8) -> 1 2 4 8 16. Ranks 0 .. W-1 take part at world size W, so
    the smaller sizes stay on the first node."""
    sizes = {total, min(per_node, total)}
    size = 1
    while size < total:
        sizes.add(size)
        size *= 2
    return sorted(sizes)


@dataclass(frozen=True)
class Item:
    """One model (a training spec of the profile, one seed) at one world size."""

    case: TrainCase
    world_size: int

    @property
    def name(self) -> str:
        spec = self.case.spec
        return f"scaling/{spec.model}/{spec.variant}/ws{self.world_size}/seed{self.case.seed}"

    @property
    def model_key(self) -> str:
        """The item without its world size: what efficiency divides by world size 1 of."""
        return self.name.replace(f"/ws{self.world_size}/", "/")


def items(profile: Profile, device: torch.device, seed: int, total: int, per_node: int,
          only: re.Pattern | None) -> list[Item]:
    """Every model at every world size (model by model, smallest world first), filtered by
    --only, which must match one."""
    every = [Item(tc, size) for tc in train_cases(profile, device, seed)
             for size in world_sizes(total, per_node)]
    out = every if only is None else [i for i in every if only.search(i.name)]
    if not out:
        raise UsageError(f"--only {only.pattern!r} matches nothing in profile "
                         f"{profile.name!r}; its items look like {every[-1].name!r}")
    return out


def shard_sizes(global_batch: int, world_size: int) -> list[int]:
    """Each rank's share of a full global batch, in rank order (they differ by at most one)."""
    return [len(range(rank, global_batch, world_size)) for rank in range(world_size)]


def shard(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank `rank`'s part of one global batch of indices: elements rank, rank + W, ..."""
    return batch[rank::world_size]
