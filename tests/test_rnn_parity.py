"""Every RNN style equals torch.nn.RNN: output, h_n, input/h0 gradients, every parameter gradient.

Each style runs with the state of a freshly built nn.RNN loaded through `load_state_dict`
(strict). The configurations are a pairwise covering design (CASES): every value of every axis
meets every value of every other axis at least once, in 8 cases instead of the 384 of the full
product; `test_cases_cover_every_pair` checks that property.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields

import pytest
import torch
from torch import nn

from implementations import rnn

STEPS, BATCH, INPUT, HIDDEN = 4, 3, 4, 5


@dataclass(frozen=True)
class Case:
    num_layers: int
    bidirectional: bool
    nonlinearity: str
    bias: bool
    batch_first: bool
    with_h0: bool  # pass an explicit (random) initial state
    batched: bool  # False: one unbatched (T, I) sequence
    dtype: torch.dtype
    input_size: int = INPUT

    def kwargs(self) -> dict:
        return dict(num_layers=self.num_layers, nonlinearity=self.nonlinearity, bias=self.bias,
                    batch_first=self.batch_first, bidirectional=self.bidirectional)

    def __str__(self) -> str:
        flags = [f"l{self.num_layers}", "bi" if self.bidirectional else "uni", self.nonlinearity,
                 "bias" if self.bias else "nobias", "bf" if self.batch_first else "tf",
                 "h0" if self.with_h0 else "noh0", "batched" if self.batched else "unbatched",
                 str(self.dtype).removeprefix("torch.")]
        return "-".join(flags)


F64, F32 = torch.float64, torch.float32
# layers, bidirectional, nonlinearity, bias, batch_first, h0, batched, dtype (pairwise covering)
CASES = [Case(*row) for row in [
    (3, True, "tanh", True, False, False, True, F64),
    (3, False, "tanh", False, False, True, False, F64),
    (2, True, "relu", True, True, False, True, F64),
    (1, True, "tanh", True, True, True, True, F64),
    (1, False, "relu", False, False, False, False, F32),
    (2, True, "tanh", False, False, True, False, F32),
    (3, False, "relu", False, True, True, True, F32),
    (2, False, "tanh", True, True, False, False, F32),
]]
AXES = [f.name for f in fields(Case)][:8]  # input_size is not an axis
COMPILING = {info.name for info in rnn.describe() if info.compiles}
EAGER_STYLES = [s for s in rnn.styles("cpu") if s not in COMPILING]


def make_inputs(case: Case, device: str = "cpu", seed: int = 0):
    """Input (with or without batch), optional h0, and weights that mix the outputs into a loss."""
    g = torch.Generator().manual_seed(seed)
    directions = 2 if case.bidirectional else 1
    batch = (BATCH,) if case.batched else ()
    x_shape = (*batch, STEPS, case.input_size) if case.batch_first and case.batched \
        else (STEPS, *batch, case.input_size)
    x = torch.randn(x_shape, generator=g, dtype=case.dtype)
    h0 = torch.randn(case.num_layers * directions, *batch, HIDDEN, generator=g, dtype=case.dtype)
    return x.to(device), (h0.to(device) if case.with_h0 else None)


def run(model: nn.Module, x: torch.Tensor, h0: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Forward + backward of a fixed random mix of (output, h_n); every result by name."""
    model.zero_grad(set_to_none=True)  # the same model may run again
    x = x.clone().requires_grad_()
    h0 = None if h0 is None else h0.clone().requires_grad_()
    output, h_n = model(x, h0)
    g = torch.Generator().manual_seed(1)  # the same loss weights for every model
    mix_out = torch.randn(output.shape, generator=g, dtype=output.dtype).to(output.device)
    mix_h = torch.randn(h_n.shape, generator=g, dtype=h_n.dtype).to(h_n.device)
    ((output * mix_out).sum() + (h_n * mix_h).sum()).backward()
    results = {"output": output.detach(), "h_n": h_n.detach(), "grad input": x.grad}
    if h0 is not None:
        results["grad h0"] = h0.grad
    results.update({f"grad {n}": p.grad for n, p in model.named_parameters()})
    return results


def assert_matches(actual: dict, expected: dict, dtype: torch.dtype,
                   rtol32: float = 1e-5) -> None:
    """float64: within 1e-10; float32: within rtol32 of each tensor's own magnitude."""
    assert actual.keys() == expected.keys()
    for name, want in expected.items():
        got = actual[name]
        assert got is not None, f"{name} is missing"
        assert got.shape == want.shape and got.dtype == want.dtype, name
        if dtype == torch.float64:
            tol = dict(rtol=0.0, atol=1e-10)
        else:
            tol = dict(rtol=rtol32, atol=rtol32 * float(want.abs().max()))
        torch.testing.assert_close(got, want, **tol, msg=lambda m, n=name: f"{n}: {m}")


def check_parity(style: str, case: Case, device: str = "cpu", rtol32: float = 1e-5) -> nn.Module:
    torch.manual_seed(0)
    reference = nn.RNN(case.input_size, HIDDEN, **case.kwargs()).to(device, case.dtype)
    model = rnn.build(style, case.input_size, HIDDEN, **case.kwargs()).to(device, case.dtype)
    model.load_state_dict(reference.state_dict())  # strict: names and shapes must agree
    x, h0 = make_inputs(case, device)
    assert_matches(run(model, x, h0), run(reference, x, h0), case.dtype, rtol32)
    return model


def test_cases_cover_every_pair():
    axes = [{getattr(c, name) for c in CASES} for name in AXES]
    assert [len(a) for a in axes] == [3, 2, 2, 2, 2, 2, 2, 2]
    rows = [[getattr(c, name) for name in AXES] for c in CASES]
    for i, j in itertools.combinations(range(8), 2):
        seen = {(row[i], row[j]) for row in rows}
        assert seen == set(itertools.product(axes[i], axes[j])), (i, j)


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("style", EAGER_STYLES)
def test_style_matches_nn_rnn(style: str, case: Case):
    check_parity(style, case)


# torch.compile costs seconds per graph on a small CPU, so two cases: one multi-layer,
# bidirectional float64 with an h0 (input_size = 2 * hidden: every layer and direction shares
# one graph), one single-layer relu float32 without bias, batch_first. Forward and backward.
COMPILE_CASES = [
    Case(2, True, "tanh", True, False, True, True, F64, input_size=2 * HIDDEN),
    Case(1, False, "relu", False, True, False, True, F32),
]


# Dynamo reads .grad of non-leaf inputs while tracing and hides the resulting UserWarning by
# swapping warnings.showwarning, which an "error" filter bypasses (torch._dynamo.variables.
# builder.safe_has_grad); outside pytest's warnings-as-errors nobody sees it.
DYNAMO_GRAD_WARNING = "ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning"


@pytest.mark.filterwarnings(DYNAMO_GRAD_WARNING)
@pytest.mark.parametrize("case", COMPILE_CASES, ids=str)
def test_compile_matches_nn_rnn(case: Case):
    check_parity("compile", case)


def test_compile_is_the_only_cpu_style_tested_apart():
    # a new compiling CPU style would need its own (few) cases above
    assert [s for s in rnn.styles("cpu") if s in COMPILING] == ["compile"]
