"""Random configurations, as a user (or an independent checker) would try them: build each CPU
style, load a torch.nn.RNN's state_dict into it, and compare outputs and every gradient."""

from __future__ import annotations

import random

import pytest
import torch

from implementations import rnn

pytestmark = pytest.mark.usefixtures("one_thread")

STYLES = [s for s in rnn.styles("cpu") if s != "compile"]  # compile: see test_rnn_parity.py


def _random_case(rng: random.Random) -> dict:
    return {
        "config": dict(num_layers=rng.randint(1, 3), nonlinearity=rng.choice(["tanh", "relu"]),
                       bias=rng.choice([True, False]), batch_first=rng.choice([True, False]),
                       dropout=rng.choice([0.0, 0.3]), bidirectional=rng.choice([True, False])),
        "sizes": (rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 6), rng.randint(1, 4)),
        "dtype": rng.choice([torch.float64, torch.float32]),
        "unbatched": rng.random() < 0.3,
        "h0": rng.random() < 0.5,
    }


def _inputs(case: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
    cfg, (inp, hid, steps, batch) = case["config"], case["sizes"]
    layers = cfg["num_layers"] * (2 if cfg["bidirectional"] else 1)
    if case["unbatched"]:
        x_shape, h_shape = (steps, inp), (layers, hid)
    else:
        x_shape = (batch, steps, inp) if cfg["batch_first"] else (steps, batch, inp)
        h_shape = (layers, batch, hid)
    x = torch.randn(*x_shape, dtype=case["dtype"])
    h0 = torch.randn(*h_shape, dtype=case["dtype"]) if case["h0"] else None
    return x, h0


def _run(module: torch.nn.Module, x: torch.Tensor, h0):
    x = x.clone().requires_grad_()
    output, h_n = module(x, h0)
    (output.sum() + h_n.pow(2).sum()).backward()
    grads = {name: p.grad for name, p in module.named_parameters()}
    return output, h_n, x.grad, grads


@pytest.mark.filterwarnings("ignore:dropout option adds dropout:UserWarning")
@pytest.mark.parametrize("seed", range(12))
def test_random_configuration_matches_nn_rnn(seed):
    rng = random.Random(seed)
    case = _random_case(rng)
    torch.manual_seed(seed)
    inp, hid = case["sizes"][:2]
    reference = torch.nn.RNN(inp, hid, **case["config"]).to(case["dtype"]).eval()
    x, h0 = _inputs(case)
    expected = _run(reference, x, h0)
    tol = 1e-10 if case["dtype"] == torch.float64 else 1e-5
    for style in STYLES:
        module = rnn.build(style, inp, hid, **case["config"]).to(case["dtype"]).eval()
        module.load_state_dict(reference.state_dict())
        got = _run(module, x, h0)
        parts = ("output", "h_n", "input grad")
        for want, have, what in zip(expected[:3], got[:3], parts, strict=True):
            torch.testing.assert_close(have, want, atol=tol, rtol=tol,
                                       msg=f"{style} {what} differs for {case}")
        assert got[3].keys() == expected[3].keys()
        for name, grad in expected[3].items():
            torch.testing.assert_close(got[3][name], grad, atol=tol * 10, rtol=tol * 10,
                                       msg=f"{style} grad of {name} differs for {case}")
