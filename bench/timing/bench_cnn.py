"""pytest-benchmark cases for the CNN variants.

`mnistbench run` parametrises `case` with the profile's CNN cases (bench.timing.cases.cnn_cases):
  inference   eval-mode forward under no_grad
  train_step  train-mode forward + cross-entropy + backward + SGD-with-momentum step
Inputs are random tensors of MNIST's shape: the time of these kernels does not depend on the
pixel values, and it keeps data loading out of the timed region.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench.system.device import synchronize
from bench.training.modelinfo import step_flops
from implementations import cnn


def make_step(case, device: torch.device):
    """Build the variant and return (step, model); step() runs one pass on a resident batch."""
    p = case.params
    model = cnn.build(p["family"], p["shortcut"]).to(device)
    x = torch.randn(p["batch"], 1, 28, 28, device=device)  # (N, 1, 28, 28)
    y = torch.randint(0, 10, (p["batch"],), device=device)  # (N,)
    if p["pass"] == "inference":
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
            synchronize(device)
        return step, model
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        synchronize(device)
    return step, model


def test_cnn(case, block, benchmark, timing):
    def build():
        step, model = make_step(case, timing.device)
        if not timing.count_flops:
            return step, model, None
        # counted on a copy: the optimizer step of a train_step must not move the timed weights
        count, _ = make_step(case, timing.device)
        return step, model, step_flops(count)
    timing.measure(benchmark, build)
