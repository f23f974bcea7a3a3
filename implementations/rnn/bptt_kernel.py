"""The compiled LSTM time loops of style `bptt` (csrc/bptt_lstm.cpp), for float32 on CPU.

The loops are built with torch.utils.cpp_extension the first time they are needed, once per
machine, torch version and source: into $XDG_CACHE_HOME/mnistbench/kernels (default
~/.cache/mnistbench/kernels), named by a digest of the source, torch's version and install
location, and the interpreter, so a later process only loads the library. (The location is in
it because the build's include paths name it: two virtual environments sharing one directory
rebuilt it, 25 s, every time the other one ran.) `mnistbench run` builds it before timing
starts (bench.run.runner), so no timed call pays for the build.

Where it cannot be built or loaded (no C++ compiler or ninja, a torch build without ATen's
brgemm, a failed self-check), or with MNISTBENCH_BPTT_KERNEL=off, style `bptt` runs its Python
loops (bptt_cells.py) instead: the same arithmetic, slower at small batch and hidden sizes.
`status()` says which, and results.json records it (software.bptt_kernel).

Why compiled: at the MNIST shape (batch 64, hidden 128) on 2 cores the Python LSTM loop's ATen
calls cost more than its GEMMs, and oneDNN's fused LSTM (`native`) was 1.6x faster forward.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor

SOURCE = Path(__file__).with_name("csrc") / "bptt_lstm.cpp"
ENV = "MNISTBENCH_BPTT_KERNEL"
_OFF = ("0", "off", "no", "false")
FLAGS = ["-O3", "-fopenmp"]

_module: ModuleType | None = None
_reason: str | None = None  # why the Python loops run; None until a load was tried
_suspended = 0  # > 0 inside python_loops()


def _digest() -> str:
    key = b"\0".join([SOURCE.read_bytes(), torch.__version__.encode(),
                      str(Path(torch.__file__).resolve().parent).encode(),
                      platform.python_version().encode(), " ".join(FLAGS).encode()])
    return hashlib.sha256(key).hexdigest()[:12]


def build_dir() -> Path:
    """Where this source's library is built and kept."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "mnistbench" / "kernels" / f"bptt_lstm-{_digest()}"


def disabled() -> bool:
    return os.environ.get(ENV, "").strip().lower() in _OFF


FAILED = "failed.txt"  # in build_dir(): why the last build failed (not retried; delete to retry)


def built() -> bool:
    """True when this source's library is already built here (loading it is then quick)."""
    return any(build_dir().glob("*.so"))


def load() -> ModuleType | None:
    """The compiled module, building it if needed; None (and `status()` says why) where the
    Python loops must run. Tried once per process; a failed build is recorded in build_dir()
    and not tried again by later processes (the timing workers), which take the Python loops."""
    global _module, _reason
    if _module is not None or _reason is not None:
        return _module
    if disabled():
        _reason = f"{ENV}={os.environ[ENV]}"
        return None
    failed = build_dir() / FAILED
    if failed.is_file():
        _reason = failed.read_text(encoding="utf-8").strip() or "an earlier build failed"
        return None
    if shutil.which(os.environ.get("CXX", "c++")) is None:
        _reason = "no C++ compiler (c++) on PATH"
        return None
    if not _find_ninja():  # torch.utils.cpp_extension builds with it
        _reason = "ninja is not installed (pip install ninja, or the system's package)"
        return None
    try:
        _module = _build()
        _self_check(_module)
    except Exception as exc:  # any failure leaves the Python loops, with the reason kept
        _module = None
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        _reason = f"could not build or load it: {first[:200]}"
        with contextlib.suppress(OSError):
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(f"{_reason} (delete {failed} to try again)\n", encoding="utf-8")
    return _module


def _find_ninja() -> bool:
    """True when torch can run ninja: on PATH, or beside this interpreter (pip's ninja in a
    virtual environment that was not activated, which is then put on PATH)."""
    if shutil.which("ninja"):
        return True
    here = Path(sys.executable).parent
    if not (here / "ninja").is_file():
        return False
    os.environ["PATH"] = os.pathsep.join([str(here), os.environ.get("PATH", "")])
    return True


def _build() -> ModuleType:
    # importing cpp_extension logs a warning about CUDA_HOME on machines without CUDA
    quiet = logging.getLogger("torch.utils.cpp_extension")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        from torch.utils import cpp_extension

        where = build_dir()
        where.mkdir(parents=True, exist_ok=True)
        # built from a copy in the build directory: every checkout with this source then shares
        # one build (ninja rebuilds when the path or the time stamp of a source changes)
        source = where / SOURCE.name
        if not source.is_file() or source.read_bytes() != SOURCE.read_bytes():
            shutil.copyfile(SOURCE, source)
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            return cpp_extension.load(name=f"mnistbench_bptt_lstm_{where.name[-12:]}",
                                      sources=[str(source)], extra_cflags=FLAGS,
                                      extra_ldflags=["-fopenmp"], build_directory=str(where),
                                      with_cuda=False, verbose=False)
    finally:
        quiet.setLevel(level)


def _self_check(module: ModuleType) -> None:
    """A tiny LSTM through the compiled loops and through the Python ones must agree."""
    from implementations.rnn import bptt, bptt_cells  # not at the top: bptt imports this

    gen = torch.Generator().manual_seed(0)
    steps, batch, hidden = 3, 5, 8
    gates = torch.randn(steps, batch, 4 * hidden, generator=gen)
    h0, c0 = torch.randn(2, batch, hidden, generator=gen).unbind(0)
    w = torch.randn(4 * hidden, hidden, generator=gen) * 0.3
    out, _, _ = module.lstm_forward(gates.clone(), h0, c0, w)
    # the Python loops take the tanh gate's pre-activation doubled (bptt_cells.py says why)
    doubled = bptt._doubled("LSTM", gates.movedim(2, 0), hidden).movedim(0, 2).contiguous()
    want, *_ = bptt_cells.lstm_forward(doubled, h0, c0, bptt._doubled("LSTM", w, hidden))
    if not torch.allclose(out, want, rtol=1e-5, atol=1e-6):
        raise RuntimeError("its outputs differ from the Python loops' (self-check)")


def status() -> str:
    """One line for results.json and `mnistbench env`: which loops the LSTM of `bptt` runs."""
    if _module is not None:
        return "compiled (float32 on CPU)"
    if _reason is not None:
        return f"Python loops: {_reason}"
    if disabled():
        return f"Python loops: {ENV}={os.environ[ENV]}"
    if built():
        return "compiled (float32 on CPU; built, not loaded in this process)"
    return "not built yet: style bptt builds it on first use (about 30 s, once)"


@contextlib.contextmanager
def python_loops() -> Iterator[None]:
    """Inside, style bptt runs its Python loops even where the compiled ones are loaded (tests
    of the Python loops' structure, side-by-side measurements)."""
    global _suspended
    _suspended += 1
    try:
        yield
    finally:
        _suspended -= 1


def applies(*tensors: Tensor | None) -> bool:
    """True when the compiled loops can run these tensors (float32 on CPU) and are available."""
    if _suspended or any(t is not None and (t.device.type != "cpu" or t.dtype != torch.float32)
           for t in tensors):
        return False
    return load() is not None


def lstm_forward(gates: Tensor, h0: Tensor, c0: Tensor,
                 w_hh: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """As bptt_cells.lstm_forward, but with nothing doubled: gates (T, B, 4H) = x W_ih^T + b,
    w_hh (4H, H) -> out, gates (now i, f, g, o), cells (T+1, B, H), tanh_c (T, B, H)."""
    gates = gates.contiguous()
    out, cells, tanh_c = _module.lstm_forward(gates, h0.contiguous(), c0.contiguous(),
                                              w_hh.contiguous())
    return out, gates, cells, tanh_c


def lstm_backward(dout: Tensor, dh: Tensor, dc: Tensor, gates: Tensor, cells: Tensor,
                  tanh_c: Tensor, w_hh: Tensor, x: Tensor, h0: Tensor, out: Tensor,
                  need_h0: bool, need_w: bool) -> tuple[Tensor | None, ...]:
    """As bptt_cells.lstm_backward, and with `need_w` the weight gradients too: -> dG (T, B, 4H),
    dL/dh0 (or None), dL/dc0, dW_ih (4H, I), dW_hh (4H, H), db (4H) (the last three None
    without `need_w`; db is the gradient of b_ih and of b_hh alike)."""
    dg, dh0, dc0, dw_ih, dw_hh, db = _module.lstm_backward(
        dout.contiguous(), dh.contiguous(), dc.contiguous(), gates, cells, tanh_c,
        w_hh.contiguous(), x.contiguous(), h0.contiguous(), out, need_h0, need_w)
    return dg, dh0, dc0, dw_ih, dw_hh, db
