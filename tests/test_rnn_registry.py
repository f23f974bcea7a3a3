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

ALL = ["loop", "bmm", "premul", "jit", "compile", "compile-cudagraphs", "bptt", "native",
       "native-nocudnn"]
REFERENCE = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CUDA_ONLY = ["compile-cudagraphs", "native-nocudnn"]
CPU = [s for s in ALL if s not in CUDA_ONLY]


@pytest.mark.parametrize("cell", rnn.CELLS)
@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")])
def test_cpu_styles_are_exactly_the_cpu_ones(device, cell):
    assert rnn.styles(device, cell) == CPU
    assert rnn.styles(device) == rnn.styles(device, "rnn")


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_cuda_styles_need_a_visible_gpu(cell):
    expected = ALL if torch.cuda.is_available() else []
    assert rnn.styles("cuda", cell) == expected
    assert rnn.styles(torch.device("cuda", 0), cell=cell) == expected


def test_cells_are_rnn_lstm_gru():
    assert rnn.CELLS == ("rnn", "lstm", "gru")


def test_unknown_cell_is_a_value_error_naming_the_cells():
    for call in (lambda: rnn.styles("cpu", "transformer"),
                 lambda: rnn.build("loop", 4, 5, cell="transformer")):
        with pytest.raises(ValueError, match="unknown cell 'transformer'.*'rnn', 'lstm', 'gru'"):
            call()


def test_describe_covers_every_style_once_in_registry_order():
    infos = rnn.describe()
    assert [i.name for i in infos] == ALL
    for info in infos:
        assert info.summary and "\n" not in info.summary and len(info.summary) <= 100
        assert info.devices in (("cpu", "cuda"), ("cuda",))
        assert (info.devices == ("cuda",)) == (info.name in CUDA_ONLY)
        assert info.deprecated == (info.name == "jit")
        assert info.compiles == info.name.startswith("compile")
        assert info.cells == rnn.CELLS
        assert info.double_backward == (info.name != "bptt")
    assert [info.name for info in infos if info.baseline] == ["native"]
    assert "no double backward" in next(i.summary for i in infos if i.name == "bptt")


def test_style_info_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        rnn.describe()[0].name = "other"


def test_unknown_style_names_every_valid_one():
    with pytest.raises(ValueError, match="'lstm'") as error:
        rnn.build("lstm", 4, 5)
    assert all(name in str(error.value) for name in ALL)


@pytest.mark.parametrize("cell", rnn.CELLS)
@pytest.mark.parametrize("style", ALL)  # building compiles nothing yet
def test_parameters_are_nns_names_shapes_and_order(style, cell):
    kwargs = dict(num_layers=3, bidirectional=True)
    reference = REFERENCE[cell](4, 5, **kwargs)
    model = rnn.build(style, 4, 5, cell=cell, **kwargs)
    assert [(n, p.shape) for n, p in model.named_parameters()] == \
        [(n, p.shape) for n, p in reference.named_parameters()]
    assert model.mode == reference.mode
    no_bias = rnn.build(style, 4, 5, bias=False, num_layers=2, cell=cell)
    model.load_state_dict(reference.state_dict())  # strict
    no_bias.load_state_dict(REFERENCE[cell](4, 5, bias=False, num_layers=2).state_dict())


@pytest.mark.parametrize("cell", rnn.CELLS)
@pytest.mark.parametrize("style", ALL)  # building compiles nothing yet
def test_init_draws_like_nn(style, cell):
    torch.manual_seed(7)
    reference = REFERENCE[cell](3, 16, num_layers=2, bidirectional=True)
    torch.manual_seed(7)
    model = rnn.build(style, 3, 16, num_layers=2, bidirectional=True, cell=cell)
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
    (dict(proj_size=2, cell="lstm"), "proj_size=2 is not supported.*torch.nn.LSTM"),
    (dict(nonlinearity="relu", cell="lstm"), "applies to cell='rnn' only"),
    (dict(nonlinearity="relu", cell="gru"), "applies to cell='rnn' only"),
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


@pytest.mark.parametrize(("hx", "match"), [
    (torch.zeros(1, 2, 6), r"hx of an LSTM must be a tuple \(h0, c0\) of two tensors, got Tensor"),
    ((torch.zeros(1, 2, 6),), r"must be a tuple \(h0, c0\) of two tensors, got tuple"),
    ((torch.zeros(1, 2, 6), None), r"c0 must be a torch.Tensor of shape \(1, 2, 6\)"),
    ((torch.zeros(1, 3, 6), torch.zeros(1, 2, 6)), r"h0 must have shape \(1, 2, 6\)"),
    ((torch.zeros(1, 2, 6), torch.zeros(2, 2, 6)), r"c0 must have shape \(1, 2, 6\)"),
])
@pytest.mark.parametrize("style", CPU)
def test_bad_lstm_state_is_one_value_error(style, hx, match):
    model = rnn.build(style, 4, 6, cell="lstm")
    with pytest.raises(ValueError, match=match):
        model(torch.zeros(5, 2, 4), hx)


@pytest.mark.parametrize("style", ["loop", "bptt", "native"])
def test_a_gru_refuses_an_lstm_state(style):
    with pytest.raises(ValueError, match="hx of a GRU must be one tensor h0, got tuple"):
        rnn.build(style, 4, 6, cell="gru")(torch.zeros(5, 2, 4), (torch.zeros(1, 2, 6),) * 2)


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


@pytest.mark.parametrize(("style", "cell"), [("loop", "rnn"), ("jit", "gru"), ("native", "rnn"),
                                           ("native", "lstm"), ("bptt", "lstm")])
def test_models_deep_copy_and_pickle(style, cell):
    model = rnn.build(style, 3, 4, num_layers=2, cell=cell)
    x = torch.randn(2, 1, 3)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)
