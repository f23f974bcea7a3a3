"""implementations.cnn: every variant builds, trains, and the shortcut modes really differ."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from implementations import cnn
from implementations.cnn import mobilenetv2, resnet

BATCH = 4


pytestmark = pytest.mark.usefixtures("one_thread")


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _images(seed: int = 0, n: int = BATCH) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_variants_are_family_times_shortcut():
    expected = [("resnet", s) for s in resnet.SHORTCUTS] + [
        ("mobilenetv2", s) for s in mobilenetv2.SHORTCUTS]
    assert cnn.variants() == expected
    assert len(set(cnn.variants())) == 7


def test_describe_has_one_line_per_variant():
    infos = cnn.describe()
    assert [(i.family, i.shortcut) for i in infos] == cnn.variants()
    assert all(i.summary and "\n" not in i.summary for i in infos)
    with pytest.raises(AttributeError):
        infos[0].summary = "x"  # frozen


@pytest.mark.parametrize(("family", "shortcut"), cnn.variants())
def test_variant_maps_images_to_logits_and_trains(family, shortcut):
    torch.manual_seed(0)
    model = cnn.build(family, shortcut)
    x, y = _images(), torch.tensor([0, 1, 2, 3])
    logits = model(x)
    assert logits.shape == (BATCH, 10) and logits.dtype == torch.float32
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(3):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert sum(g.abs().sum() for g in grads) > 0
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]  # three steps on one batch must fit it better


def test_resnet_parameter_counts_follow_the_shortcut_mode():
    counts = {s: _params(cnn.build("resnet", s)) for s in resnet.SHORTCUTS}
    assert counts["projection"] > counts["zeropad"] == counts["none"] == counts["plain"]


def test_mobilenetv2_parameter_counts_follow_the_shortcut_mode():
    counts = {s: _params(cnn.build("mobilenetv2", s)) for s in mobilenetv2.SHORTCUTS}
    assert counts["projection"] > counts["paper"] == counts["none"]


def _same_weights_outputs(family: str, a: str, b: str, **kwargs) -> tuple[torch.Tensor, ...]:
    torch.manual_seed(0)
    first = cnn.build(family, a, **kwargs).eval()
    second = cnn.build(family, b, **kwargs).eval()
    second.load_state_dict(first.state_dict())  # parameter-free shortcuts: identical keys
    x = _images(1)
    with torch.no_grad():
        return first(x), second(x)


@pytest.mark.parametrize(("a", "b"), [("zeropad", "none"), ("none", "plain"),
                                      ("zeropad", "plain")])
def test_resnet_parameter_free_modes_compute_different_functions(a, b):
    out_a, out_b = _same_weights_outputs("resnet", a, b)
    assert not torch.allclose(out_a, out_b, rtol=1e-3, atol=0)


def test_mobilenetv2_paper_and_none_compute_different_functions():
    out_a, out_b = _same_weights_outputs("mobilenetv2", "paper", "none")
    assert not torch.allclose(out_a, out_b, rtol=1e-3, atol=0)


def test_zeropad_shortcut_subsamples_and_pads_with_zeros():
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4)
    out = resnet.ZeroPadShortcut(2, 5, 2)(x)
    assert out.shape == (1, 5, 2, 2)
    assert torch.equal(out[:, :2], x[:, :, ::2, ::2])
    assert not out[:, 2:].any()


def test_shortcut_rule_per_block():
    assert resnet.make_shortcut("plain", 16, 16, 1) is None
    assert isinstance(resnet.make_shortcut("none", 16, 16, 1), torch.nn.Identity)
    assert resnet.make_shortcut("none", 16, 32, 2) is None
    assert isinstance(resnet.make_shortcut("zeropad", 16, 32, 2), resnet.ZeroPadShortcut)
    assert mobilenetv2.make_shortcut("paper", 24, 32, 1) is None
    assert isinstance(mobilenetv2.make_shortcut("paper", 24, 24, 1), torch.nn.Identity)
    assert mobilenetv2.make_shortcut("none", 24, 24, 1) is None
    assert isinstance(mobilenetv2.make_shortcut("projection", 24, 32, 2), torch.nn.Sequential)


def test_bottleneck_activation_changes_the_function_not_the_parameters():
    torch.manual_seed(0)
    linear = cnn.build("mobilenetv2", "paper", bottleneck_act="linear").eval()
    relu6 = cnn.build("mobilenetv2", "paper", bottleneck_act="relu6").eval()
    relu6.load_state_dict(linear.state_dict())
    with torch.no_grad():
        assert not torch.allclose(linear(_images()), relu6(_images()), rtol=1e-3, atol=0)


def test_resnet_depth_is_6n_plus_2():
    for n in (1, 2):
        convs = [m for m in cnn.build("resnet", "plain", n=n).modules()
                 if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
        assert len(convs) == 6 * n + 2


def test_width_multiplier_scales_mobilenetv2():
    small = _params(cnn.build("mobilenetv2", "paper", width_mult=0.5))
    assert small < _params(cnn.build("mobilenetv2", "paper"))
    assert cnn.build("mobilenetv2", "paper", width_mult=0.5)(_images()).shape == (BATCH, 10)


@pytest.mark.parametrize(("family", "shortcut", "kwargs", "names"), [
    ("vgg", "projection", {}, "resnet, mobilenetv2"),
    ("resnet", "paper", {}, "projection, zeropad, none, plain"),
    ("mobilenetv2", "zeropad", {}, "paper, projection, none"),
    ("mobilenetv2", "paper", {"bottleneck_act": "gelu"}, "linear, relu6"),
    ("resnet", "projection", {"n": 0}, "positive integer"),
    ("resnet", "projection", {"width_mult": 2.0}, "its options are n"),
    ("mobilenetv2", "paper", {"n": 2}, "bottleneck_act, width_mult"),
    ("mobilenetv2", "paper", {"width_mult": -1.0}, "positive number"),
])
def test_bad_arguments_raise_value_error_naming_the_allowed(family, shortcut, kwargs, names):
    with pytest.raises(ValueError, match=names):
        cnn.build(family, shortcut, **kwargs)
