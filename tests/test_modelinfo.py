"""bench.modelinfo: parameter counts and FLOPs per image."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.training.modelinfo import count_params, flops_per_image, step_flops
from implementations import cnn, rnn
from implementations.classifier import RowRNNClassifier
from implementations.rnn import bptt_kernel

pytestmark = pytest.mark.usefixtures("one_thread")


def test_count_params_of_a_known_layer():
    assert count_params(nn.Linear(784, 10)) == 784 * 10 + 10
    assert count_params(nn.BatchNorm2d(8)) == 16  # weight + bias; running stats are buffers


def test_flops_of_a_known_layer_count_a_multiply_add_as_two():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    assert flops_per_image(model) == 2 * 784 * 10


@pytest.mark.parametrize(("family", "shortcut"), cnn.variants())
def test_every_variant_has_positive_size_and_cost(family, shortcut):
    model = cnn.build(family, shortcut)
    assert count_params(model) > 0
    assert flops_per_image(model) > 0


def test_flops_and_params_grow_with_resnet_depth():
    shallow, deep = cnn.build("resnet", "projection", n=1), cnn.build("resnet", "projection", n=2)
    assert flops_per_image(deep) > flops_per_image(shallow)
    assert count_params(deep) > count_params(shallow)


def test_projection_shortcuts_cost_flops_zeropad_does_not():
    flops = {s: flops_per_image(cnn.build("resnet", s)) for s in ("projection", "zeropad", "plain")}
    assert flops["projection"] > flops["zeropad"] == flops["plain"]


def test_flops_leave_the_model_mode_and_statistics_alone():
    model = cnn.build("resnet", "projection")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flops_per_image(model)
    assert model.training  # train mode restored
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN untouched
    model.eval()
    flops_per_image(model)
    assert not model.training


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_rnn_classifier_flops_are_the_arithmetic_of_every_style(cell):
    # counted in the loop style, so fused kernels (oneDNN's LSTM and GRU) count too
    counts = {style: flops_per_image(RowRNNClassifier(style, hidden_size=32, cell=cell))
              for style in rnn.styles("cpu", cell=cell)}
    assert len(set(counts.values())) == 1, counts
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]  # 28 rows: input and recurrent GEMMs, then fc
    assert counts["native"] == 28 * 2 * gates * 32 * (28 + 32) + 2 * 32 * 10


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_a_forward_backward_counts_the_same_in_every_cpu_style(cell):
    x = torch.zeros(5, 3, 4)  # (T, B, I)

    def step(style):
        model = rnn.build(style, 4, 6, cell=cell)
        return lambda: model(x)[0].sum().backward()

    # native LSTM and GRU: oneDNN's fused kernels, which the counter cannot see; nor can it see
    # inside bptt's compiled LSTM loops, so bptt is counted on its Python loops (the timed cases
    # are counted on `loop`: bench.timing.bench_rnn.workload_flops)
    styles = [s for s in rnn.styles("cpu", cell=cell) if cell == "rnn" or s != "native"]
    with bptt_kernel.python_loops():
        counts = {style: step_flops(step(style)) for style in styles}  # bptt: in-place GEMMs
    assert len(set(counts.values())) == 1 and counts["loop"] > 0, counts


def test_compiled_modules_are_counted_eagerly():
    plain = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    compiled = torch.compile(plain, fullgraph=True)
    assert flops_per_image(compiled) == flops_per_image(plain) == 2 * 784 * 10


@pytest.mark.parametrize(("groups", "input_grad"), [(1, True), (1, False), (4, True), (16, True),
                                                    (16, False)])
def test_a_convolution_backward_costs_the_forward_once_per_gradient(groups, input_grad):
    """torch's own formula counts a grouped convolution's weight gradient `groups` times over;
    ours counts each gradient as the forward's multiply-adds (the depthwise 16-group case is
    what MobileNetV2's train step is made of)."""
    conv = nn.Conv2d(16, 32, 3, padding=1, groups=groups, bias=False)
    x = torch.randn(4, 16, 10, 10, requires_grad=input_grad)
    forward = 2 * 4 * 32 * 10 * 10 * (16 // groups) * 9
    assert step_flops(lambda: conv(x)) == forward
    assert step_flops(lambda: conv(x).sum().backward()) == forward * (2 + input_grad)


def test_a_mobilenetv2_train_step_counts_about_three_forwards():
    model = cnn.build("mobilenetv2", "paper")
    x, y = torch.randn(2, 1, 28, 28), torch.tensor([1, 2])
    forward = 2 * flops_per_image(model)  # two images

    def step():
        nn.functional.cross_entropy(model(x), y).backward()
    assert 2.5 * forward <= step_flops(step) <= 3.0 * forward  # no input gradient at the stem
