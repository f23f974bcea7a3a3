"""Issue 13, "trained with every implementation": an RNN classifier spec without a style expands
to every style of the run's device, every profile but smoke trains it, and every style of a seed
starts from the same initial weights (native's), so the runs differ only by the implementation."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from bench.system.device import set_seed
from bench.timing import cases
from bench.timing.profiles import PROFILES, RNN_STYLES_MODEL, TrainSpec
from bench.training import runs
from implementations import rnn
from implementations.classifier import RowRNNClassifier

pytestmark = pytest.mark.usefixtures("one_thread")
CPU = torch.device("cpu")
EVERY_STYLE = TrainSpec("rnn", RNN_STYLES_MODEL, None, 1, 640, seeds=(0, 1), batch_size=64)


def _planned(spec: TrainSpec, device: torch.device = CPU, base_seed: int = 0):
    profile = dataclasses.replace(PROFILES["smoke"], train=(spec,))
    return cases.train_cases(profile, device, base_seed)


def test_a_spec_without_a_style_trains_every_style_of_the_device():
    planned = _planned(EVERY_STYLE, base_seed=3)
    styles = rnn.styles(CPU)
    assert len(styles) >= 6 and "native" in styles and "bmm" in styles
    assert [(c.spec.variant, c.seed) for c in planned] == [
        (s, seed) for s in styles for seed in (3, 4)]
    assert all(dataclasses.replace(c.spec, variant=None) == EVERY_STYLE for c in planned)
    assert planned[0].name == f"train/{RNN_STYLES_MODEL}/{styles[0]}/seed3"
    assert len({c.name for c in planned}) == len(planned)


def test_the_expansion_follows_the_run_device(monkeypatch):
    """On CUDA the CUDA-only styles join (and none is planned where CUDA is absent)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    on_gpu = [c.spec.variant for c in _planned(EVERY_STYLE, torch.device("cuda"))]
    assert on_gpu == [s for s in rnn.styles("cuda") for _ in (0, 1)]
    assert {"compile-cudagraphs", "native-nocudnn"} <= set(on_gpu) - set(rnn.styles(CPU))
    assert all(c.device == "cuda" for c in _planned(EVERY_STYLE, torch.device("cuda")))


def _every_style_specs(profile_name: str) -> list[TrainSpec]:
    return [s for s in PROFILES[profile_name].train
            if s.kind == "rnn" and s.variant is None]


@pytest.mark.parametrize("name", ["quick", "full", "shortcuts"])
def test_quick_full_and_the_study_train_every_cpu_style_alike(name):
    (spec,) = _every_style_specs(name)
    planned = [c for c in cases.train_cases(PROFILES[name], CPU, 0) if c.spec.model == spec.model]
    assert sorted(c.spec.variant for c in planned) == sorted(rnn.styles(CPU))
    configs = [runs.train_config(c, PROFILES[name]) for c in planned]
    assert len({tuple(sorted(c.options().items())) for c in configs}) == 1  # one trainer
    assert len({c.seed for c in configs}) == 1


def test_the_study_keeps_its_long_native_run_and_quick_has_only_the_short_ones():
    for name in ("full", "shortcuts"):
        native = [s for s in PROFILES[name].train if s.model == "rnn-classifier"
                  and s.variant == "native"]
        assert native and native[0].epochs >= 15 and native[0].train_limit is None
    quick_rnn = [s for s in PROFILES["quick"].train if s.kind == "rnn"]
    assert [s.variant for s in quick_rnn] == [None]
    (short,) = quick_rnn
    assert short.epochs == 1 and short.train_limit is not None
    assert dict(short.trainer)["evals_per_epoch"] >= 1


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _build(style: str, seed: int) -> torch.nn.Module:
    set_seed(seed)
    spec = dataclasses.replace(EVERY_STYLE, variant=style)
    return runs.build_model(cases.TrainCase("t", spec, seed, "cpu"))


def test_every_style_starts_from_natives_weights_for_the_seed():
    reference = _weights(_build("native", 5))
    for style in rnn.styles(CPU):
        weights = _weights(_build(style, 5))
        assert weights.keys() == reference.keys(), style
        for name, value in weights.items():
            assert torch.equal(value, reference[name]), (style, name)
    other = _weights(_build("premul", 6))
    assert not torch.equal(other["rnn.weight_hh_l0"], reference["rnn.weight_hh_l0"])


def test_the_start_is_natives_even_for_a_style_that_initialises_otherwise(monkeypatch):
    """The styles share torch.nn's init today; the strict load keeps the start shared even for a
    style whose own initialisation draws other numbers (simulated: it redraws every weight)."""
    import implementations.classifier as classifier

    build = classifier.rnn.build

    def other_init(style, *args, **kwargs):
        module = build(style, *args, **kwargs)
        if style != "native":
            with torch.no_grad():
                for p in module.parameters():
                    p.copy_(torch.randn_like(p))
        return module

    monkeypatch.setattr(classifier.rnn, "build", other_init)
    set_seed(5)
    own = _weights(RowRNNClassifier("loop"))
    native = _weights(_build("native", 5))
    assert not torch.equal(own["rnn.weight_hh_l0"], native["rnn.weight_hh_l0"])  # it bites
    shared = _weights(_build("loop", 5))
    assert all(torch.equal(v, native[k]) for k, v in shared.items())


def test_the_same_weights_give_the_same_logits_in_every_style():
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    want = _build("native", 2)(x)
    for style in rnn.styles(CPU):
        torch.testing.assert_close(_build(style, 2)(x), want, rtol=1e-5, atol=1e-5)


class _Shapes(torch.nn.Module):
    """A stand-in model that notes the batch sizes it is called with."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(28 * 28, 10)
        self.sizes: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(x.shape[0])
        return self.fc(x.flatten(1))


@pytest.mark.parametrize("limit, sizes", [(1000, [40, 64]), (640, [64]), (None, [32, 64])])
def test_precompile_sees_every_training_batch_size_and_leaves_the_weights(limit, sizes):
    model = _Shapes()
    before = _weights(model)
    config = runs.train_config(cases.TrainCase("t", dataclasses.replace(
        EVERY_STYLE, variant="compile", train_limit=limit), 0, "cpu"), PROFILES["quick"])
    tensors = type("Tensors", (), {"y_train": torch.zeros(60000)})()  # the training labels
    seconds = runs.precompile(model, config, tensors, CPU)
    assert model.sizes == sizes and seconds >= 0
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_only_compiling_styles_are_precompiled():
    compiling = {i.name for i in rnn.describe() if i.compiles}
    assert "compile" in compiling
    for style in rnn.styles(CPU):
        tc = cases.TrainCase("t", dataclasses.replace(EVERY_STYLE, variant=style), 0, "cpu")
        assert runs._compiles(tc) == (style in compiling), style
    cnn_case = cases.TrainCase("t", TrainSpec("cnn", "resnet", "plain", 1, 64), 0, "cpu")
    assert not runs._compiles(cnn_case)
