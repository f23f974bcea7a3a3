"""Each style is what its docstring says: the ops it runs, its compilation, its warnings."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from implementations import rnn
from implementations.rnn import bptt_kernel, compiled, jit, loop, native
from implementations.rnn.base import RNNConfig

STEPS, BATCH, INPUT, HIDDEN = 3, 4, 2, 5


class OpLog(TorchDispatchMode):
    """Records (op name, output shape) of every ATen op run under it."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[str, tuple[int, ...]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor):
            self.ops.append((func.overloadpacket.__name__, tuple(out.shape)))
        return out

    def count(self, name: str, shape: tuple[int, ...]) -> int:
        return self.ops.count((name, shape))


def forward_ops(style: str, cell: str = "rnn") -> OpLog:
    model = rnn.build(style, INPUT, HIDDEN, cell=cell)
    x = torch.randn(STEPS, BATCH, INPUT)
    with torch.no_grad(), OpLog() as log:
        model(x)
    return log


def test_bmm_copies_the_weights_per_batch_element_at_every_step():
    log = forward_ops("bmm")
    assert log.count("clone", (BATCH, HIDDEN, INPUT)) == STEPS  # W_ih, once per step
    assert log.count("clone", (BATCH, HIDDEN, HIDDEN)) == STEPS  # W_hh, once per step
    assert log.count("bmm", (BATCH, HIDDEN, 1)) == 2 * STEPS


def gemm_rows(log: OpLog) -> list[int]:
    return sorted(shape[0] for name, shape in log.ops if name in ("mm", "addmm", "addmm_"))


def test_loop_runs_two_small_gemms_per_step():
    assert gemm_rows(forward_ops("loop")) == [BATCH] * (2 * STEPS)


def test_premul_projects_every_step_in_one_gemm():
    assert gemm_rows(forward_ops("premul")) == [BATCH] * STEPS + [STEPS * BATCH]


@pytest.mark.parametrize(("cell", "gates"), [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_bptt_projects_every_step_at_once_then_one_recurrent_gemm_per_step(cell, gates):
    with bptt_kernel.python_loops():  # the compiled LSTM loops: tests/test_bptt_kernel.py
        log = forward_ops("bptt", cell)
    assert gemm_rows(log) == [BATCH] * STEPS + [STEPS * BATCH]
    projection = [(name, shape) for name, shape in log.ops if shape[0] == STEPS * BATCH
                  and name in ("mm", "addmm", "addmm_")]
    assert projection == [("addmm", (STEPS * BATCH, gates * HIDDEN))]  # x W_ih^T + b


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_bptt_backward_carries_one_gemm_per_step_and_the_rest_over_all_steps(cell):
    model = rnn.build("bptt", INPUT, HIDDEN, cell=cell)
    x = torch.randn(STEPS, BATCH, INPUT, requires_grad=True)
    with bptt_kernel.python_loops():  # the compiled LSTM loops: tests/test_bptt_kernel.py
        output, _ = model(x)
        with OpLog() as log:
            output.sum().backward()
    gemms = [shape for name, shape in log.ops if name in ("mm", "addmm", "addmm_")]
    per_step = [s for s in gemms if s == (BATCH, HIDDEN)]
    assert len(per_step) == STEPS - 1  # dh_{t-1} = dout + dG_t W_hh; none needed at t = 0
    assert len(gemms) == len(per_step) + 4  # dW_hh (step 0, then 1..T-1), dW_ih, dX
    assert log.count("mm", (STEPS * BATCH, INPUT)) == 1  # dX = dG W_ih, all steps at once


def test_bptt_refuses_double_backward():
    model = rnn.build("bptt", INPUT, HIDDEN, cell="lstm")
    x = torch.randn(STEPS, BATCH, INPUT, requires_grad=True)
    (grad,) = torch.autograd.grad(model(x)[0].pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        grad.sum().backward()
    assert not next(i for i in rnn.describe() if i.name == "bptt").double_backward


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_bptt_without_gradients_skips_autograd_and_computes_the_same(cell):
    model = rnn.build("bptt", INPUT, HIDDEN, cell=cell, num_layers=2)
    x = torch.randn(STEPS, BATCH, INPUT)
    recorded = model(x)
    assert recorded[0].grad_fn is not None  # weights require grad: the Function is recorded
    with torch.no_grad():  # the loops reuse one buffer per step's values (nothing to keep)
        direct = model(x)
    assert direct[0].grad_fn is None
    torch.testing.assert_close(direct, recorded, rtol=0, atol=0)


def test_jit_records_the_deprecation_instead_of_showing_it():
    with warnings.catch_warnings(record=True) as direct:
        warnings.simplefilter("always")
        torch.jit.script(loop.run_layer)
    # what this torch says when scripting, each message once
    expected = list(dict.fromkeys(str(w.message) for w in direct))
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        model = rnn.build("jit", INPUT, HIDDEN)
        model(torch.randn(STEPS, BATCH, INPUT))
    assert [str(w.message) for w in shown] == []
    assert model.recorded_warnings == expected
    assert isinstance(jit.scripted_loop()[0], torch.jit.ScriptFunction)


def test_other_styles_record_no_warnings():
    for style in ("loop", "compile", "bptt", "native"):
        assert rnn.build(style, INPUT, HIDDEN).recorded_warnings == []


def test_each_compiled_module_keeps_its_own_graph_cache():
    weights = rnn.build("loop", INPUT, HIDDEN)

    def call(layer_fn, steps: int) -> None:
        layer_fn(torch.randn(steps, 1, INPUT), [torch.zeros(1, HIDDEN)], weights.weight_ih_l0,
                 weights.weight_hh_l0, None, None, "RNN_TANH")

    with torch._dynamo.config.patch(recompile_limit=1), torch.no_grad():
        # one graph per cache: two torch.compile wrappers of one function share the cache,
        # so the second shape fails (loudly, thanks to fullgraph=True) ...
        shared = compiled.own_copy(loop.run_layer)
        call(torch.compile(shared, dynamic=False, fullgraph=True, backend="eager"), 2)
        with pytest.raises(torch._dynamo.exc.FailOnRecompileLimitHit):
            call(torch.compile(shared, dynamic=False, fullgraph=True, backend="eager"), 3)
        # ... while each module from the builder compiles its own copy, with its own cache
        for steps in (2, 3, 4):
            model = compiled.build(RNNConfig(INPUT, HIDDEN), backend="eager")
            assert model(torch.randn(steps, 1, INPUT))[0].shape == (steps, 1, HIDDEN)


def test_cudnn_disabled_changes_only_the_enabled_flag():
    cudnn = torch.backends.cudnn
    with cudnn.flags(enabled=True, benchmark=True, deterministic=True, allow_tf32=False):
        with native.cudnn_disabled():
            assert not cudnn.enabled
            assert (cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, True, False)
        assert cudnn.enabled and cudnn.benchmark


@pytest.mark.parametrize(("cell", "cls"), [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM),
                                          ("gru", torch.nn.GRU)])
def test_native_is_nn_rnn_itself(cell, cls):
    assert isinstance(rnn.build("native", INPUT, HIDDEN, cell=cell), cls)
    assert isinstance(rnn.build("native-nocudnn", INPUT, HIDDEN, cell=cell), cls)
