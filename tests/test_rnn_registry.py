"""The RNN registry: names per device, descriptions, construction and every refusal."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from implementations import rnn

ALL = ["loop", "bmm", "premul", "jit", "compile", "compile-cudagraphs", "native",
       "native-nocudnn"]
CUDA_ONLY = ["compile-cudagraphs", "native-nocudnn"]
CPU = [s for s in ALL if s not in CUDA_ONLY]


@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")])
def test_cpu_styles_are_exactly_the_cpu_ones(device):
    assert rnn.styles(device) == CPU


def test_cuda_styles_need_a_visible_gpu():
    expected = ALL if torch.cuda.is_available() else []
    assert rnn.styles("cuda") == expected
    assert rnn.styles(torch.device("cuda", 0)) == expected


def test_describe_covers_every_style_once_in_registry_order():
    infos = rnn.describe()
    assert [i.name for i in infos] == ALL
    for info in infos:
        assert info.summary and "\n" not in info.summary and len(info.summary) <= 100
        assert info.devices in (("cpu", "cuda"), ("cuda",))
        assert (info.devices == ("cuda",)) == (info.name in CUDA_ONLY)
        assert info.deprecated == (info.name == "jit")
        assert info.compiles == info.name.startswith("compile")


def test_style_info_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        rnn.describe()[0].name = "other"


def test_unknown_style_names_every_valid_one():
    with pytest.raises(ValueError, match="'lstm'") as error:
        rnn.build("lstm", 4, 5)
    assert all(name in str(error.value) for name in ALL)


@pytest.mark.parametrize("style", ALL)  # building compiles nothing yet
def test_parameters_are_nn_rnns_names_shapes_and_order(style):
    kwargs = dict(num_layers=3, bidirectional=True)
    reference = nn.RNN(4, 5, **kwargs)
    model = rnn.build(style, 4, 5, **kwargs)
    assert [(n, p.shape) for n, p in model.named_parameters()] == \
        [(n, p.shape) for n, p in reference.named_parameters()]
    no_bias = rnn.build(style, 4, 5, bias=False, num_layers=2)
    assert set(no_bias.state_dict()) == set(nn.RNN(4, 5, bias=False, num_layers=2).state_dict())


@pytest.mark.parametrize("style", ALL)  # building compiles nothing yet
def test_init_draws_like_nn_rnn(style):
    torch.manual_seed(7)
    reference = nn.RNN(3, 16, num_layers=2, bidirectional=True)
    torch.manual_seed(7)
    model = rnn.build(style, 3, 16, num_layers=2, bidirectional=True)
    for (name, want), (_, got) in zip(reference.named_parameters(), model.named_parameters(),
                                      strict=True):
        assert torch.equal(got, want), name
        assert got.abs().max() <= 1 / 16 ** 0.5 and got.requires_grad


@pytest.mark.parametrize("style", ["loop", "jit"])
def test_parameters_follow_dtype_conversion(style):
    model = rnn.build(style, 3, 4).double()
    output, h_n = model(torch.randn(2, 1, 3, dtype=torch.float64))
    assert output.dtype == h_n.dtype == torch.float64


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(proj_size=2), "proj_size"),
    (dict(nonlinearity="sigmoid"), "'tanh', 'relu'"),
    (dict(dropout=-0.1), r"\[0, 1\]"),
    (dict(dropout=1.5), r"\[0, 1\]"),
    (dict(num_layers=0), "num_layers"),
    (dict(bidirectional="yes"), "bidirectional"),
])
@pytest.mark.parametrize("style", ["loop", "native"])
def test_bad_arguments_are_value_errors(style, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rnn.build(style, 4, 5, **kwargs)


@pytest.mark.parametrize("hidden", [0, 2.5, True])
def test_bad_sizes_are_value_errors(hidden):
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        rnn.build("loop", 4, hidden)


@pytest.mark.parametrize(("shape", "hx_shape", "match"), [
    ((5,), None, "must be 3-D .* or 2-D"),
    ((5, 2, 4, 1), None, "must be 3-D .* or 2-D"),
    ((5, 2, 3), None, "3 features per step .* input_size=4"),
    ((0, 2, 4), None, "no time steps"),
    ((5, 2, 4), (1, 3, 6), r"hx must have shape \(1, 2, 6\)"),
    ((5, 4), (1, 1, 6), r"hx must have shape \(1, 6\)"),
])
@pytest.mark.parametrize("style", CPU)
def test_bad_input_is_one_value_error(style, shape, hx_shape, match):
    model = rnn.build(style, 4, 6)
    hx = None if hx_shape is None else torch.zeros(hx_shape)
    with pytest.raises(ValueError, match=match):
        model(torch.zeros(shape), hx)


def test_packed_sequences_are_left_to_native():
    packed = pack_padded_sequence(torch.randn(5, 2, 4), [5, 3])
    output, _ = rnn.build("native", 4, 6)(packed)
    assert isinstance(output, PackedSequence)
    with pytest.raises(ValueError, match="PackedSequence input is supported by style 'native'"):
        rnn.build("loop", 4, 6)(packed)


def test_dtype_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="dtype"):
        rnn.build("premul", 4, 6)(torch.zeros(3, 1, 4, dtype=torch.float64))


@pytest.mark.parametrize("style", CUDA_ONLY)
def test_cuda_only_styles_refuse_cpu_input(style):
    model = rnn.build(style, 4, 6)  # building is fine: nothing runs yet
    with pytest.raises(ValueError, match=f"'{style}' runs on CUDA only"):
        model(torch.zeros(3, 2, 4))


def test_dropout_with_one_layer_warns_like_nn_rnn():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        rnn.build("loop", 4, 6, dropout=0.5)


@pytest.mark.parametrize("style", ["loop", "jit", "native"])
def test_models_deep_copy_and_pickle(style):
    model = rnn.build(style, 3, 4, num_layers=2)
    x = torch.randn(2, 1, 3)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)
