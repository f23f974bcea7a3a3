"""Shared fixtures: where the full MNIST is, and one real smoke run reused by several tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def full_mnist_dir() -> Path:
    """The full MNIST for tests: $MNISTBENCH_TEST_DATA, else ../shared/data/mnist."""
    return Path(os.environ.get("MNISTBENCH_TEST_DATA", ROOT.parent / "shared" / "data" / "mnist"))


@pytest.fixture
def one_thread():
    """One torch thread for tests of tiny ops: on a busy 2-core machine two threads mostly wait
    on each other, which makes such tests many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    path = full_mnist_dir()
    if not (path / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"the full MNIST is not at {path}: set MNISTBENCH_TEST_DATA to a directory "
                    "holding the four IDX files (`mnistbench data` shows where yours are)")
    return path


def run_cli(*args: str, env: dict | None = None, timeout: float = 600,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m bench ARGS` from the source tree, as a user would run it."""
    full_env = {**os.environ, "MNISTBENCH_OFFLINE": "1", "PYTHONPATH": str(ROOT),
                **(env or {})}
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=cwd or ROOT)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, mnist_dir) -> tuple[Path, subprocess.CompletedProcess]:
    """One real `mnistbench run --profile smoke` on the CPU: (run dir, the finished process)."""
    out = tmp_path_factory.mktemp("smoke") / "run"
    proc = run_cli("run", "--profile", "smoke", "--device", "cpu", "--threads", "2",
                   "--data-dir", str(mnist_dir), "--out", str(out))
    assert proc.returncode == 0, f"smoke run failed:\n{proc.stderr[-3000:]}"
    return out, proc


@pytest.fixture(scope="session")
def smoke_results(smoke_run) -> Path:
    """The results.json of the real smoke run (report.html is beside it)."""
    return smoke_run[0] / "results.json"
