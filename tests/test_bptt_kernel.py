"""implementations.rnn.bptt_kernel: style bptt's compiled LSTM loops compute what nn.LSTM does, at
batch sizes and hidden sizes that exercise the per-thread row blocks and the vector loops'
remainders; without them (no toolchain, a failed build, switched off) the Python loops run and
say why."""

from __future__ import annotations

import io
import os

import pytest
import torch
from torch import nn

from bench.run import runner
from bench.timing.cases import Case
from implementations import rnn
from implementations.rnn import bptt_kernel


@pytest.fixture
def compiled():
    """The compiled loops, loaded. Where they cannot be (no toolchain, a torch without ATen's
    brgemm) the test is skipped with the reason, except under CI, where it fails: CI has the
    toolchain, so there a failed build is a bug."""
    if bptt_kernel.load() is None:
        message = f"the compiled loops are not available here: {bptt_kernel.status()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """A process state in which nothing was loaded yet, building into an empty cache."""
    monkeypatch.setattr(bptt_kernel, "_module", None)
    monkeypatch.setattr(bptt_kernel, "_reason", None)
    monkeypatch.setattr(bptt_kernel, "build_dir", lambda: tmp_path / "kernel")
    monkeypatch.delenv(bptt_kernel.ENV, raising=False)
    return tmp_path / "kernel"


@pytest.fixture
def python_loops(monkeypatch):
    """Style bptt as if the compiled loops were unavailable."""
    monkeypatch.setattr(bptt_kernel, "_module", None)
    monkeypatch.setattr(bptt_kernel, "_reason", "switched off by the test")


def test_the_compiled_loops_build_and_load_here(compiled):
    assert bptt_kernel.status().startswith("compiled")
    assert bptt_kernel.applies(torch.zeros(1))
    assert not bptt_kernel.applies(torch.zeros(1, dtype=torch.float64))


def test_each_torch_installation_has_its_own_build(monkeypatch, tmp_path):
    # the build names torch's include directory: a second virtual environment sharing the
    # first one's build would rebuild it on every switch
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    here = bptt_kernel.build_dir()
    assert here.parent == tmp_path / "mnistbench" / "kernels"
    monkeypatch.setattr(torch, "__file__", str(tmp_path / "other-venv" / "torch" / "__init__.py"))
    assert bptt_kernel.build_dir() != here
    assert bptt_kernel.build_dir().parent == here.parent


def _lstm_results(model: nn.Module, x: torch.Tensor, state, gout: torch.Tensor) -> dict:
    model.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_()
    state = None if state is None else tuple(s.clone().requires_grad_() for s in state)
    out, (h_n, c_n) = model(x, state)
    loss = (out * gout).sum() + (h_n * 0.5).sum() - (c_n * 0.25).sum()
    loss.backward()
    got = {"output": out.detach(), "h_n": h_n.detach(), "c_n": c_n.detach(), "grad x": x.grad}
    if state is not None:
        got.update({"grad h0": state[0].grad, "grad c0": state[1].grad})
    got.update({f"grad {n}": p.grad for n, p in model.named_parameters()})
    return got


# (batch, hidden, layers, bidirectional, bias, with state, threads): one row block and several,
# blocks of unequal size (9 rows on 2 threads), hidden sizes that are not a multiple of the
# vector width, unbatched input (batch None)
SHAPES = [
    (64, 128, 1, False, True, False, 2),
    (9, 33, 2, True, True, True, 2),
    (5, 8, 1, False, False, True, 2),
    (None, 16, 1, True, True, True, 2),
    (64, 40, 2, False, True, False, 1),
]


def _compare(shape, seed: int = 0) -> None:
    batch, hidden, layers, bi, bias, with_state, threads = shape
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        kwargs = dict(num_layers=layers, bidirectional=bi, bias=bias)
        reference = nn.LSTM(12, hidden, **kwargs)
        model = rnn.build("bptt", 12, hidden, cell="lstm", **kwargs)
        model.load_state_dict(reference.state_dict())
        g = torch.Generator().manual_seed(seed + 1)
        lead = (7,) if batch is None else (7, batch)
        x = torch.randn(*lead, 12, generator=g)
        dirs = 2 if bi else 1
        state_shape = (layers * dirs, hidden) if batch is None else (layers * dirs, batch, hidden)
        state = (tuple(torch.randn(*state_shape, generator=g) for _ in range(2))
                 if with_state else None)
        gout = torch.randn(*lead, dirs * hidden, generator=g)
        got = _lstm_results(model, x, state, gout)
        want = _lstm_results(reference, x, state, gout)
    finally:
        torch.set_num_threads(previous)
    assert got.keys() == want.keys()
    for name in want:
        scale = float(want[name].abs().max())
        torch.testing.assert_close(got[name], want[name], rtol=1e-5, atol=1e-5 * scale,
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_compiled_loops_match_nn_lstm(compiled, shape):
    _compare(shape)


@pytest.mark.parametrize("shape", SHAPES[:3], ids=str)
def test_python_loops_match_nn_lstm_in_float32(python_loops, shape):
    _compare(shape)
    assert bptt_kernel.status() == "Python loops: switched off by the test"


def test_without_weight_gradients_the_loops_still_give_input_gradients(compiled):
    """need_w false: frozen weights, the gradient of the input still flows."""
    torch.manual_seed(3)
    reference = nn.LSTM(6, 10)
    model = rnn.build("bptt", 6, 10, cell="lstm")
    model.load_state_dict(reference.state_dict())
    for m in (reference, model):
        m.requires_grad_(False)
    x = torch.randn(5, 4, 6)
    grads = []
    for m in (model, reference):
        xr = x.clone().requires_grad_()
        m(xr)[0].square().sum().backward()
        grads.append(xr.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_switched_off_by_the_environment(fresh, monkeypatch):
    monkeypatch.setenv(bptt_kernel.ENV, "off")
    assert bptt_kernel.load() is None
    assert bptt_kernel.status() == f"Python loops: {bptt_kernel.ENV}=off"


def test_a_failed_build_is_recorded_and_not_retried(fresh, monkeypatch):
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("error: something did not compile\nmore lines")

    monkeypatch.setattr(bptt_kernel, "_build", broken)
    monkeypatch.setattr(bptt_kernel.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert bptt_kernel.load() is None
    assert bptt_kernel.status() == ("Python loops: could not build or load it: error: "
                                    "something did not compile")
    marker = fresh / bptt_kernel.FAILED
    assert "something did not compile" in marker.read_text()
    # a later process (a timing worker) reads the record instead of building again
    monkeypatch.setattr(bptt_kernel, "_reason", None)
    assert bptt_kernel.load() is None
    assert calls == [1]
    assert "delete" in bptt_kernel.status() and str(marker) in bptt_kernel.status()


def test_without_a_compiler_the_python_loops_run(fresh, monkeypatch):
    monkeypatch.setattr(bptt_kernel.shutil, "which", lambda name: None)
    assert bptt_kernel.load() is None
    assert bptt_kernel.status() == "Python loops: no C++ compiler (c++) on PATH"
    assert not bptt_kernel.applies(torch.zeros(1))
    assert not (fresh / bptt_kernel.FAILED).exists()  # nothing to retry once one is installed


def test_status_before_loading(fresh):
    assert bptt_kernel.status().startswith("not built yet")
    fresh.mkdir(parents=True)
    (fresh / "lib.so").write_bytes(b"")
    assert bptt_kernel.status().startswith("compiled")


def _case(style: str, cell: str, device: str = "cpu") -> Case:
    return Case(f"{cell}/{style}/forward/x", ("rnn",), "rnn", style, device, {"cell": cell})


def test_a_run_builds_the_loops_before_timing_only_when_it_times_them(monkeypatch):
    loads = []
    monkeypatch.setattr(bptt_kernel, "load", lambda: loads.append(1) or object())
    monkeypatch.setattr(bptt_kernel, "built", lambda: False)
    monkeypatch.delenv(bptt_kernel.ENV, raising=False)
    out = io.StringIO()
    runner.prepare_kernels(runner.Plan([_case("bptt", "gru"), _case("bptt", "lstm", "cuda"),
                                        _case("native", "lstm")], []), out)
    assert loads == [] and out.getvalue() == ""
    runner.prepare_kernels(runner.Plan([_case("bptt", "lstm")], []), out)
    assert loads == [1]
    assert "building the compiled LSTM loops of style bptt" in out.getvalue()


def test_a_run_says_when_the_python_loops_will_run(monkeypatch):
    monkeypatch.setattr(bptt_kernel, "load", lambda: None)
    monkeypatch.setattr(bptt_kernel, "built", lambda: False)
    monkeypatch.setattr(bptt_kernel, "status", lambda: "Python loops: no C++ compiler")
    out = io.StringIO()
    runner.prepare_kernels(runner.Plan([_case("bptt", "lstm")], []), out)
    assert out.getvalue().splitlines()[-1] == ("mnistbench: style bptt's LSTM runs its Python "
                                               "loops: no C++ compiler")


def test_python_loops_suspends_the_compiled_ones_and_gives_the_same_result(compiled):
    torch.manual_seed(4)
    model = rnn.build("bptt", 5, 12, cell="lstm")
    x = torch.randn(6, 3, 5)
    with bptt_kernel.python_loops():
        assert not bptt_kernel.applies(x)
        slow = model(x)[0]
    assert bptt_kernel.applies(x)
    torch.testing.assert_close(model(x)[0], slow, rtol=1e-5, atol=1e-6)


def test_pips_ninja_beside_the_interpreter_is_found_and_put_on_path(fresh, monkeypatch,
                                                                   tmp_path):
    """A virtual environment that was not activated: its bin/ holds pip's ninja, PATH does not."""
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "ninja").write_text("")
    monkeypatch.setattr(bptt_kernel.sys, "executable", str(venv_bin / "python"))
    monkeypatch.setattr(bptt_kernel.shutil, "which",
                        lambda name: None if name == "ninja" else f"/usr/bin/{name}")
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setattr(bptt_kernel, "_build", lambda: (_ for _ in ()).throw(
        RuntimeError("stop here")))
    assert bptt_kernel.load() is None
    assert "stop here" in bptt_kernel.status()  # it went on to build
    assert os.environ["PATH"].split(os.pathsep)[0] == str(venv_bin)


def test_without_ninja_the_python_loops_run_and_say_so(fresh, monkeypatch, tmp_path):
    monkeypatch.setattr(bptt_kernel.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(bptt_kernel.shutil, "which",
                        lambda name: None if name == "ninja" else f"/usr/bin/{name}")
    assert bptt_kernel.load() is None
    assert bptt_kernel.status() == ("Python loops: ninja is not installed (pip install ninja, "
                                    "or the system's package)")
