"""implementations.classifier: the row-by-row RNN classifier over several RNN styles."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from implementations.classifier import RowRNNClassifier

STYLES = ("loop", "bmm", "premul", "native", "jit", "bptt")
HIDDEN = 24
BATCH = 8


pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(BATCH, 1, 28, 28, generator=g), torch.randint(0, 10, (BATCH,), generator=g)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("style", ["loop", "premul", "bptt", "native"])
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, False), (2, True)])
def test_maps_images_to_logits(style, num_layers, bidirectional, cell):
    model = RowRNNClassifier(style, hidden_size=HIDDEN, num_layers=num_layers,
                             bidirectional=bidirectional, cell=cell)
    x, y = _batch(0)
    logits = model(x)
    assert logits.shape == (BATCH, 10)
    F.cross_entropy(logits, y).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_reads_rows_as_time_steps_and_uses_the_last_hidden_state():
    torch.manual_seed(0)
    model = RowRNNClassifier("native", hidden_size=HIDDEN)
    x, _ = _batch(1)
    seq = x[:, 0].transpose(0, 1)  # (28 rows = T, N, 28 pixels)
    _, h_n = model.rnn(seq)  # (1, N, H)
    assert torch.allclose(model(x), model.fc(h_n[-1]), atol=1e-6)
    later = x.clone()
    later[:, :, -1] += 1.0  # the last row is the last time step: it must change the output
    assert not torch.allclose(model(later), model(x))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_an_lstm_classifies_from_the_last_layers_h_n_not_c_n(bidirectional):
    torch.manual_seed(0)
    model = RowRNNClassifier("bptt", hidden_size=HIDDEN, num_layers=2, cell="lstm",
                             bidirectional=bidirectional)
    x, _ = _batch(2)
    _, (h_n, _) = model.rnn(x[:, 0].transpose(0, 1))  # (2 * D, N, H)
    last = torch.cat(list(h_n[-model.directions:]), dim=1)  # (N, D * H)
    torch.testing.assert_close(model(x), model.fc(last))


def test_unknown_style_is_a_value_error():
    with pytest.raises(ValueError, match="loop"):
        RowRNNClassifier("lstm")


def _loss_curve(model: torch.nn.Module, steps: int = 20) -> list[float]:
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for step in range(steps):
        x, y = _batch(100 + step)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_styles_follow_the_same_loss_curve_from_the_same_weights():
    torch.manual_seed(0)
    reference = RowRNNClassifier("native", hidden_size=HIDDEN)
    state = reference.state_dict()
    curves = {}
    for style in STYLES:
        model = RowRNNClassifier(style, hidden_size=HIDDEN)
        model.load_state_dict(state)  # nn.RNN's parameter names in every style
        curves[style] = _loss_curve(model)
    expected = curves["native"]
    for style, curve in curves.items():
        assert curve == pytest.approx(expected, abs=1e-4), style
    torch.manual_seed(1)
    other = _loss_curve(RowRNNClassifier("native", hidden_size=HIDDEN))
    assert other != pytest.approx(expected, abs=1e-4)  # the comparison can tell weights apart
