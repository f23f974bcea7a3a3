"""Every style on CUDA equals torch.nn.RNN on CUDA (cuDNN), TF32 off; CUDA-only styles' contracts.

float32 tolerance is 1e-4 of each tensor's magnitude: cuDNN and cuBLAS sum in different orders.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from implementations import rnn
from tests.test_rnn_parity import (
    CASES,
    COMPILE_CASES,
    COMPILING,
    DYNAMO_GRAD_WARNING,
    HIDDEN,
    Case,
    assert_matches,
    check_parity,
    make_inputs,
    run,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
CUDA_STYLES = rnn.styles("cuda") if torch.cuda.is_available() else []
RTOL32 = 1e-4


@pytest.fixture(autouse=True)
def no_tf32():
    """Full float32 in cuBLAS and cuDNN, or the comparison measures TF32, not the styles."""
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = matmul.allow_tf32, cudnn.allow_tf32
    matmul.allow_tf32 = cudnn.allow_tf32 = False
    yield
    matmul.allow_tf32, cudnn.allow_tf32 = saved


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("style", [s for s in CUDA_STYLES if s not in COMPILING])
def test_style_matches_nn_rnn_on_cuda(style: str, case: Case):
    check_parity(style, case, device="cuda", rtol32=RTOL32)


@pytest.mark.filterwarnings(DYNAMO_GRAD_WARNING)
# older Inductor releases warned (now: a log line) when float32 matmuls could use TF32 but don't
@pytest.mark.filterwarnings("ignore:TensorFloat32 tensor cores:UserWarning")
@pytest.mark.parametrize("case", COMPILE_CASES, ids=str)
@pytest.mark.parametrize("style", [s for s in CUDA_STYLES if s in COMPILING])
def test_compiled_style_matches_nn_rnn_on_cuda_call_after_call(style: str, case: Case):
    """Three steps: warm-up, CUDA-graph capture, replay — each forward and backward."""
    torch.manual_seed(0)
    reference = nn.RNN(case.input_size, HIDDEN, **case.kwargs()).to("cuda", case.dtype)
    model = rnn.build(style, case.input_size, HIDDEN, **case.kwargs()).to("cuda", case.dtype)
    model.load_state_dict(reference.state_dict())
    outputs = []
    for step in range(3):
        x, h0 = make_inputs(case, "cuda", seed=step)
        expected = run(reference, x, h0)
        got = run(model, x, h0)
        assert_matches(got, expected, case.dtype, RTOL32)
        outputs.append((got["output"], expected["output"]))
    for got, expected in outputs:  # earlier outputs survive later steps
        torch.testing.assert_close(got, expected, rtol=RTOL32, atol=RTOL32)


def autograd_node_names(tensor: torch.Tensor) -> set[str]:
    seen, names, todo = set(), set(), [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(node.name())
        todo.extend(next_node for next_node, _ in node.next_functions)
    return names


@pytest.mark.parametrize("style", ["native", "native-nocudnn"])
def test_nocudnn_records_no_cudnn_op_for_backward(style: str):
    # Disabling cuDNN around forward is enough: backward replays what forward recorded.
    model = rnn.build(style, 4, 8, num_layers=2, bidirectional=True).cuda()
    x = torch.randn(5, 3, 4, device="cuda", requires_grad=True)
    output, h_n = model(x)
    names = autograd_node_names(output) | autograd_node_names(h_n)
    uses_cudnn = any("cudnn" in name.lower() for name in names)
    assert uses_cudnn == (style == "native" and torch.backends.cudnn.is_acceptable(x)), names
    (output.sum() + h_n.sum()).backward()  # with cuDNN enabled again, as usual
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("style", [s for s in CUDA_STYLES
                                   if s not in COMPILING and not s.startswith("native")])
def test_training_masks_equal_the_aten_path_under_the_same_seed(style: str):
    """Off cuDNN, nn.RNN draws dropout masks with at::dropout, like our driver, in one order."""
    torch.manual_seed(0)
    kwargs = dict(num_layers=3, bidirectional=True, dropout=0.5)
    reference = rnn.build("native-nocudnn", 4, 6, **kwargs).cuda().train()
    model = rnn.build(style, 4, 6, **kwargs).cuda().train()
    model.load_state_dict(reference.state_dict())
    x = torch.randn(5, 3, 4, device="cuda")
    torch.manual_seed(3)
    got = run(model, x, None)
    torch.manual_seed(3)
    assert_matches(got, run(reference, x, None), torch.float32, RTOL32)
