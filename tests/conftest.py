"""Shared fixtures: where the full MNIST is, and one real smoke run reused by several tests.

The full MNIST is looked for the way the program looks for data, and used only when its
checksums verify as the standard set: $MNISTBENCH_TEST_DATA, then ../shared/data/mnist beside
the checkout, then $MNISTBENCH_DATA, then the user cache (`bench.data.sources.cache_dir`). Never
downloaded: the tests run offline. Without it, everything that can runs on the bundled real
subset, and only the tests about the full set itself skip (`full_mnist_dir` fixture), saying
to set MNISTBENCH_TEST_DATA. $MNISTBENCH_TEST_DATA is an explicit request, as --data-dir is to
the program: when it is set but wrong, those tests fail instead (CI sets it).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA_ENV = "MNISTBENCH_TEST_DATA"


@functools.cache
def find_full_mnist() -> tuple[Path | None, str]:
    """(the verified full MNIST's directory or None, why not: one line, for skips and failures).

    Cached for the session: looked up once, before any test changes HOME or the environment.
    """
    from bench.data.sources import cache_dir

    explicit = os.environ.get(TEST_DATA_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        why = _not_full(path)
        return (None, f"{TEST_DATA_ENV}={explicit} {why}") if why else (path, "")
    places = [ROOT.parent / "shared" / "data" / "mnist", cache_dir("mnist")]
    if os.environ.get("MNISTBENCH_DATA"):
        places.insert(1, Path(os.environ["MNISTBENCH_DATA"]).expanduser())
    for path in places:
        if _not_full(path) is None:
            return path, ""
    tried = ", ".join(str(p) for p in places)
    return None, (f"needs the full MNIST, found at none of {tried}: set {TEST_DATA_ENV} to a "
                  "directory holding the four standard IDX files")


def _not_full(path: Path) -> str | None:
    """None when `path` holds the full standard MNIST (checksums verified), else why not."""
    from bench.data.sources import load
    from bench.errors import DataError

    try:
        ds = load(data_dir=path)
    except DataError as err:
        return f"is not usable: {err}"
    if not ds.verified or ds.subset:
        return f"does not hold the full standard MNIST ({ds.known or 'checksums differ'})"
    return None


def require_full_mnist() -> Path:
    """The full MNIST's directory; skips the calling test when there is none (fails when
    $MNISTBENCH_TEST_DATA was set to something else: it was asked for explicitly)."""
    path, why = find_full_mnist()
    if path is None and os.environ.get(TEST_DATA_ENV):
        pytest.fail(why)
    if path is None:
        pytest.skip(why)
    return path


@pytest.fixture(scope="session")
def full_mnist_dir() -> Path:
    """The verified full MNIST, for tests about the full set itself (see the module docstring)."""
    return require_full_mnist()


@pytest.fixture(scope="session")
def mnist_dir() -> Path | None:
    """The full MNIST when there is one, else None: the program's own fallback, the bundled
    subset (raises only when $MNISTBENCH_TEST_DATA was set to something else)."""
    path, why = find_full_mnist()
    if path is None and os.environ.get(TEST_DATA_ENV):
        pytest.fail(why)
    return path


@pytest.fixture
def no_tf32():
    """Full float32 in cuBLAS and cuDNN (TF32 off) for a GPU comparison against float32
    references: with TF32 it would measure TF32's rounding, not the code under test."""
    import torch

    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = matmul.allow_tf32, cudnn.allow_tf32
    matmul.allow_tf32 = cudnn.allow_tf32 = False
    yield
    matmul.allow_tf32, cudnn.allow_tf32 = saved


@pytest.fixture
def one_thread():
    """One torch thread for tests of tiny ops: on a busy 2-core machine two threads mostly wait
    on each other, which makes such tests many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def load_script(name: str):
    """scripts/NAME.py imported as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(*args: str, env: dict | None = None, timeout: float = 600,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m bench ARGS` from the source tree, as a user would run it (offline). A value of
    None in `env` removes that variable."""
    full_env = {**os.environ, "MNISTBENCH_OFFLINE": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=cwd or ROOT)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, mnist_dir) -> tuple[Path, subprocess.CompletedProcess]:
    """One real `mnistbench run --profile smoke` on the CPU: (run dir, the finished process).

    On the full MNIST when there is one (--data-dir), else with no data named, so that the
    program falls back to the bundled subset by itself (offline, no MNISTBENCH_DATA)."""
    out = tmp_path_factory.mktemp("smoke") / "run"
    data = ["--data-dir", str(mnist_dir)] if mnist_dir else []
    proc = run_cli("run", "--profile", "smoke", "--device", "cpu", "--threads", "2", *data,
                   "--out", str(out), env={"MNISTBENCH_DATA": None})
    assert proc.returncode == 0, f"smoke run failed:\n{proc.stderr[-3000:]}"
    return out, proc


@pytest.fixture(scope="session")
def smoke_results(smoke_run) -> Path:
    """The results.json of the real smoke run (report.html is beside it)."""
    return smoke_run[0] / "results.json"
