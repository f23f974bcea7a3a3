"""Dropout between layers does what nn.RNN's does: rate p, scale 1/(1-p), between layers only,
training mode only — and, under the same seed, exactly nn.RNN's (LSTM's, GRU's) masks on CPU."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from implementations import rnn
from tests.test_rnn_parity import EAGER_STYLES, REFERENCE, assert_matches, run

pytestmark = pytest.mark.usefixtures("one_thread")

P = 0.3
STEPS, BATCH, HIDDEN = 10, 40, 25  # 10,000 dropped-or-kept elements per direction


def transparent_rnn(style: str, bidirectional: bool) -> nn.Module:
    """Two relu layers without recurrence in which layer 1 copies its input through.

    Layer 0 maps the positive input to positive values y0; layer 1 has W_ih = identity (per
    direction, on its own half of the input) and W_hh = 0, so its output is exactly the
    dropped-out y0 — each element either 0 or y0 / (1 - p) — unless dropout also hit the last
    layer's output or missed the input of layer 1.
    """
    model = rnn.build(style, HIDDEN, HIDDEN, num_layers=2, nonlinearity="relu", bias=False,
                      dropout=P, bidirectional=bidirectional).double()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith("weight_hh"):
                param.zero_()
            elif name.startswith("weight_ih_l0"):
                param.uniform_(0.1, 1.0)
            else:  # weight_ih_l1[_reverse]: (H, D*H), pick this direction's half of the input
                offset = HIDDEN if name.endswith("_reverse") else 0
                param.zero_()
                param[:, offset:offset + HIDDEN] = torch.eye(HIDDEN)
    return model


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("style", EAGER_STYLES)
def test_mask_rate_and_scale_between_layers_only(style, bidirectional):
    torch.manual_seed(0)
    model = transparent_rnn(style, bidirectional)
    x = torch.rand(STEPS, BATCH, HIDDEN, dtype=torch.float64) + 0.1  # (T, B, H), positive
    kept, h_kept = model.eval()(x)  # no dropout in eval: layer 1 output == y0
    dropped, h_dropped = model.train()(x)
    ratio = dropped / kept  # (T, B, D*H): 0 where dropped, 1 / (1 - p) where kept
    is_zero = ratio == 0
    assert torch.allclose(ratio[~is_zero], torch.tensor(1 / (1 - P), dtype=ratio.dtype),
                          rtol=0, atol=1e-12), "kept values must be scaled by 1/(1-p) once"
    rate = is_zero.double().mean().item()
    assert abs(rate - P) < 0.03, f"dropped {rate:.3f} of the elements, expected about {P}"
    # layer 0's own final state is never dropped out; only its output on the way to layer 1
    directions = 2 if bidirectional else 1
    torch.testing.assert_close(h_dropped[:directions], h_kept[:directions], rtol=0, atol=0)


@pytest.mark.parametrize("style", EAGER_STYLES)
def test_no_dropout_after_a_single_layer(style):
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        model = rnn.build(style, 4, 6, dropout=0.9)
    x = torch.randn(5, 3, 4)
    torch.testing.assert_close(model.train()(x), model.eval()(x), rtol=0, atol=0)


def pair(style: str, dropout: float, cell: str = "rnn") -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    kwargs = dict(num_layers=3, bidirectional=True, dropout=dropout)
    reference = REFERENCE[cell](4, 6, **kwargs).double()
    model = rnn.build(style, 4, 6, cell=cell, **kwargs).double()
    model.load_state_dict(reference.state_dict())
    return model, reference


@pytest.mark.parametrize("style", EAGER_STYLES)
@pytest.mark.parametrize("cell", rnn.CELLS)
def test_eval_mode_equals_nn_and_ignores_dropout(cell, style):
    model, reference = pair(style, dropout=0.5, cell=cell)
    x = torch.randn(5, 3, 4, dtype=torch.float64)
    model.eval()
    reference.eval()
    first = run(model, x, None)
    assert_matches(first, run(reference, x, None), torch.float64)
    assert_matches(run(model, x, None), first, torch.float64)  # deterministic


@pytest.mark.parametrize("style", EAGER_STYLES)
@pytest.mark.parametrize("cell", rnn.CELLS)
def test_training_masks_equal_nns_under_the_same_seed(cell, style):
    # nn.RNN/LSTM/GRU in float64 on CPU run ATen's _rnn_impl, which draws its masks with the
    # same at::dropout call on the same (T, B, D*H) tensors in the same order as our driver.
    model, reference = pair(style, dropout=0.5, cell=cell)
    x = torch.randn(5, 3, 4, dtype=torch.float64)
    torch.manual_seed(3)
    got = run(model.train(), x, None)
    torch.manual_seed(3)
    want = run(reference.train(), x, None)
    assert_matches(got, want, torch.float64)
    torch.manual_seed(4)  # another seed: other masks, so the match above is not trivial
    assert not torch.equal(run(reference, x, None)["output"], want["output"])
