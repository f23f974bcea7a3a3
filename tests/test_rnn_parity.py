"""Every style and cell equals torch.nn.RNN / LSTM / GRU: output, h_n (and c_n), input and
h0 (and c0) gradients, every parameter gradient.

Each style runs with the state of a freshly built nn.RNN/LSTM/GRU loaded through
`load_state_dict` (strict). An LSTM or GRU runs every case with tanh, its only activation.
The configurations are a pairwise covering design (CASES): every value of every axis meets
every value of every other axis at least once, in 8 cases instead of the 384 of the full
product; `test_cases_cover_every_pair` checks that property.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields, replace

import pytest
import torch
from torch import nn

from implementations import rnn

STEPS, BATCH, INPUT, HIDDEN = 4, 3, 4, 5
REFERENCE = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


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

    def kwargs(self, cell: str = "rnn") -> dict:
        """nn.RNN's (or, without nonlinearity, nn.LSTM's / nn.GRU's) keyword arguments."""
        kwargs = dict(num_layers=self.num_layers, bias=self.bias, batch_first=self.batch_first,
                      bidirectional=self.bidirectional)
        return {**kwargs, "nonlinearity": self.nonlinearity} if cell == "rnn" else kwargs

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


def make_inputs(case: Case, device: str = "cpu", seed: int = 0, cell: str = "rnn"):
    """Input (with or without batch) and an optional initial state: h0, or (h0, c0) for LSTM."""
    g = torch.Generator().manual_seed(seed)
    directions = 2 if case.bidirectional else 1
    batch = (BATCH,) if case.batched else ()
    x_shape = (*batch, STEPS, case.input_size) if case.batch_first and case.batched \
        else (STEPS, *batch, case.input_size)
    x = torch.randn(x_shape, generator=g, dtype=case.dtype)
    states = [torch.randn(case.num_layers * directions, *batch, HIDDEN, generator=g,
                          dtype=case.dtype).to(device) for _ in range(2 if cell == "lstm" else 1)]
    hx = (tuple(states) if cell == "lstm" else states[0]) if case.with_h0 else None
    return x.to(device), hx


def run(model: nn.Module, x: torch.Tensor, hx) -> dict[str, torch.Tensor]:
    """Forward + backward of a fixed random mix of (output, h_n[, c_n]); every result by name."""
    model.zero_grad(set_to_none=True)  # the same model may run again
    x = x.clone().requires_grad_()
    lstm = model.mode == "LSTM"  # nn.RNNBase's attribute, which every style has too
    states = [] if hx is None else [s.clone().requires_grad_() for s in
                                    (hx if isinstance(hx, tuple) else (hx,))]
    output, finals = model(x, None if hx is None else tuple(states) if lstm else states[0])
    finals = finals if lstm else (finals,)  # (h_n,) or (h_n, c_n)
    g = torch.Generator().manual_seed(1)  # the same loss weights for every model
    loss = 0
    for tensor in (output, *finals):
        loss = loss + (tensor * torch.randn(tensor.shape, generator=g, dtype=tensor.dtype)
                       .to(tensor.device)).sum()
    loss.backward()
    names = ("h_n", "c_n")
    results = {"output": output.detach(), "grad input": x.grad}
    results.update({name: s.detach() for name, s in zip(names, finals, strict=False)})
    results.update({f"grad {name[0]}0": s.grad for name, s in zip(names, states, strict=False)})
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


def pair(style: str, case: Case, device: str = "cpu",
         cell: str = "rnn") -> tuple[nn.Module, nn.Module]:
    """(the style's module, nn.RNN/LSTM/GRU) with the same weights, on `device`."""
    torch.manual_seed(0)
    kwargs = case.kwargs(cell)
    reference = REFERENCE[cell](case.input_size, HIDDEN, **kwargs).to(device, case.dtype)
    model = rnn.build(style, case.input_size, HIDDEN, cell=cell, **kwargs).to(device, case.dtype)
    model.load_state_dict(reference.state_dict())  # strict: names and shapes must agree
    return model, reference


def check_parity(style: str, case: Case, device: str = "cpu", rtol32: float = 1e-5,
                 cell: str = "rnn") -> nn.Module:
    model, reference = pair(style, case, device, cell)
    x, hx = make_inputs(case, device, cell=cell)
    assert_matches(run(model, x, hx), run(reference, x, hx), case.dtype, rtol32)
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
@pytest.mark.parametrize("cell", rnn.CELLS)
def test_style_matches_nn(cell: str, style: str, case: Case):
    if cell != "rnn" and case.nonlinearity == "relu":  # the same case, with an LSTM's activation
        case = replace(case, nonlinearity="tanh")
    check_parity(style, case, cell=cell)


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


# per cell: (cell, case); an LSTM and a GRU add one graph each, the cheap single-layer case
COMPILE_CELL_CASES = [("rnn", case) for case in COMPILE_CASES] + [
    (cell, replace(COMPILE_CASES[1], nonlinearity="tanh")) for cell in ("lstm", "gru")]


@pytest.mark.filterwarnings(DYNAMO_GRAD_WARNING)
@pytest.mark.parametrize(("cell", "case"), COMPILE_CELL_CASES,
                         ids=[f"{cell}-{case}" for cell, case in COMPILE_CELL_CASES])
def test_compile_matches_nn(cell: str, case: Case):
    check_parity("compile", case, cell=cell)


def test_compile_is_the_only_cpu_style_tested_apart():
    # a new compiling CPU style would need its own (few) cases above
    assert [s for s in rnn.styles("cpu") if s in COMPILING] == ["compile"]
