"""Every CNN variant on CUDA computes what it computes on the CPU: the same logits and the same
gradients from the same weights, in NCHW and in channels_last (the layout the trainer uses), in
training mode (batch statistics) and in eval mode (running statistics). TF32 is off, so cuDNN's
float32 convolutions are compared, not its TF32 ones. Written against torch 2.11's API.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from implementations import cnn

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    pytest.mark.usefixtures("no_tf32"),  # tests/conftest.py
]
BATCH = 8


def _step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor):
    """One forward and backward; the logits and every parameter's gradient, on the CPU."""
    model.zero_grad(set_to_none=True)
    logits = model(x)
    F.cross_entropy(logits, y).backward()
    return logits.detach().cpu(), [p.grad.detach().cpu() for p in model.parameters()]


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "nhwc"])
@pytest.mark.parametrize(("family", "shortcut"), cnn.variants())
def test_variant_on_cuda_matches_cpu(family: str, shortcut: str, channels_last: bool):
    """float64, so the only differences are summation orders: a depthwise weight's gradient sums
    thousands of terms that nearly cancel after a batch norm, and in float32 two layouts on the
    same CPU already differ by 0.5 % of the largest gradient there."""
    torch.manual_seed(0)
    model = cnn.build(family, shortcut).double()
    x = torch.randn(BATCH, 1, 28, 28, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(1))
    y = torch.arange(BATCH) % 10
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    gpu = cnn.build(family, shortcut).double()
    gpu.load_state_dict(model.state_dict())
    gpu = gpu.to("cuda", memory_format=fmt)
    x_gpu = x.to("cuda", memory_format=fmt)
    cpu_logits, cpu_grads = _step(model.train(), x, y)
    gpu_logits, gpu_grads = _step(gpu.train(), x_gpu, y.cuda())
    torch.testing.assert_close(gpu_logits, cpu_logits, rtol=1e-9, atol=1e-9)
    scale = max(g.abs().max() for g in cpu_grads).item()
    for got, want in zip(gpu_grads, cpu_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-7, atol=1e-9 * scale)
    # both updated their running statistics from the same batch; eval mode then uses them
    gpu_buffers = dict(gpu.named_buffers())
    for name, buf in model.named_buffers():
        torch.testing.assert_close(gpu_buffers[name].cpu(), buf, rtol=1e-9, atol=1e-12)
    with torch.no_grad():
        want = model.eval()(x)
        got = gpu.eval()(x_gpu).cpu()
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("family", "shortcut"), cnn.variants())
def test_variant_in_float32_channels_last_on_cuda_matches_cpu_logits(family: str, shortcut: str):
    """The trainer's setting (float32, NHWC, cuDNN): eval-mode logits agree with the CPU's."""
    torch.manual_seed(0)
    model = cnn.build(family, shortcut).eval()
    gpu = cnn.build(family, shortcut)
    gpu.load_state_dict(model.state_dict())
    gpu = gpu.to("cuda", memory_format=torch.channels_last).eval()
    x = torch.randn(BATCH, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(x)
        got = gpu(x.to("cuda", memory_format=torch.channels_last)).cpu()
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
