"""Model size and cost: parameter count and forward FLOPs per image.

FLOPs come from torch.utils.flop_counter.FlopCounterMode (a multiply-add counts as 2 FLOPs; only
the ops it has formulas for — matmul, convolution, attention — are counted, so element-wise work
such as BN and activations is not), never from a hand count, so a model change can't go stale here.
Compiled modules are counted eagerly: torch.compile refuses to trace under a dispatch mode, and
the eager graph does the same arithmetic.

Two formulas are ours. One for an in-place addmm_, for which torch's counter has none
(`addmm_inplace_flops`). One for a convolution's backward: torch's counts a grouped
convolution's weight gradient `groups` times over (as if each group saw every channel),
which made a MobileNetV2 train step, all depthwise convolutions, count about 7x its FLOPs (a
depthwise 3x3 with 96 channels: 97x its forward for the backward). Each of the two gradients
costs exactly the forward's multiply-adds, grouped or not, so the backward counts the forward
once per gradient it computes.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from implementations.classifier import RowRNNClassifier

IMAGE_SHAPE = (1, 1, 28, 28)  # one MNIST image, NCHW
LOOP_STYLE = "loop"  # the RNN style whose ops the counter sees one by one


def conv_backward_flops(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation,
                        transposed, _output_padding, _groups, output_mask, out_shape=None,
                        **_kwargs) -> int:
    """aten.convolution_backward's FLOPs from its argument shapes (the module docstring): the
    forward's count (w_shape holds in_channels / groups, so it is right for groups) once for the
    input gradient and once for the weight gradient, each only if computed (output_mask)."""
    forward = conv_flop_count(list(x_shape), list(w_shape), list(grad_out_shape), transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def addmm_inplace_flops(_self_shape, a_shape, b_shape, *_args, out_shape=None,
                        **_kwargs) -> int:
    """aten.addmm_ (C += A B, in place): 2 m k n, as for addmm. torch's counter has no formula
    for the in-place form, so a step that uses it (the `bptt` style's time loops) counted its
    GEMMs as nothing: a bptt forward + backward counted less than the loop style's."""
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


def counter() -> FlopCounterMode:
    """A FlopCounterMode that counts with our convolution-backward and in-place addmm
    formulas."""
    return FlopCounterMode(display=False, custom_mapping={
        torch.ops.aten.convolution_backward: conv_backward_flops,
        torch.ops.aten.addmm_: addmm_inplace_flops})


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not); buffers such as BN statistics are not counted."""
    return sum(p.numel() for p in model.parameters())


def flops_per_image(model: nn.Module, device: torch.device | str = "cpu") -> int:
    """Forward FLOPs for one (1, 1, 28, 28) image, in eval mode without grad.

    The model is put back in the train/eval mode it was in; its parameters must be on `device`.
    An RNN classifier is counted in its `loop` style, as the timed RNN cases are
    (bench.timing.bench_rnn.workload_flops): every style does the same arithmetic, and the
    counter cannot see inside fused kernels (oneDNN's LSTM and GRU counted 0).
    """
    if isinstance(model, RowRNNClassifier) and model.style != LOOP_STYLE:
        return flops_per_image(model.in_style(LOOP_STYLE).to(device), device)
    was_training = model.training
    x = torch.zeros(IMAGE_SHAPE, device=device)  # (1, 1, 28, 28)
    model.eval()
    try:
        with (warnings.catch_warnings(), torch.compiler.set_stance("force_eager"),
              torch.no_grad(), counter() as flops):
            # FlopCounterMode's own global module hooks make torch.compile'd modules warn.
            warnings.filterwarnings("ignore", message=r"Using `torch.compile\(module\)` when")
            model(x)
    finally:
        model.train(was_training)
    return int(flops.get_total_flops())


def step_flops(step) -> int:
    """FLOPs of one call of `step()` (forward, and backward when the step runs it), counted
    eagerly under FlopCounterMode; the step's own device synchronisation is harmless here."""
    with (warnings.catch_warnings(), torch.compiler.set_stance("force_eager"),
          counter() as flops):
        warnings.filterwarnings("ignore", message=r"Using `torch.compile\(module\)` when")
        step()
    return int(flops.get_total_flops())
