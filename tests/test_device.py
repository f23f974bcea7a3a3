"""bench.system.device: the one place that picks the device, seeds, threads and synchronises."""

from __future__ import annotations

import logging
import random
import subprocess
import sys

import pytest
import torch

from bench.errors import UsageError
from bench.system import DEVICE_CHOICES
from bench.system.device import (
    quiet_cuda_home_notice,
    resolve_device,
    set_seed,
    set_threads,
    synchronize,
)


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def test_cpu_is_always_available():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("gpu, expected", [(False, "cpu"), (True, "cuda")])
def test_auto_picks_the_gpu_when_there_is_one(monkeypatch, gpu, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    assert resolve_device("auto") == torch.device(expected)


def test_cuda_without_a_gpu_is_a_usage_error_that_says_what_to_do(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UsageError, match="no CUDA GPU .*use --device cpu"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("cuda") == torch.device("cuda")


@pytest.mark.parametrize("name", ["tpu", "CPU", "cuda:0", ""])
def test_unknown_device_names_the_choices(name):
    with pytest.raises(UsageError, match=f"unknown device {name!r}: choose one of cpu, cuda, auto"):
        resolve_device(name)
    assert DEVICE_CHOICES == ("cpu", "cuda", "auto")


def test_set_threads_sets_and_reports(threads):
    assert set_threads(1) == 1 and torch.get_num_threads() == 1
    assert set_threads(None) == 1  # None keeps the current count
    assert set_threads(2) == 2 == torch.get_num_threads()


@pytest.mark.parametrize("bad", [0, -1])
def test_set_threads_refuses_non_positive_counts_and_changes_nothing(threads, bad):
    with pytest.raises(UsageError, match=f"--threads must be a positive integer, got {bad}"):
        set_threads(bad)
    assert torch.get_num_threads() == threads


def _draws() -> tuple[float, list[float]]:
    return random.random(), torch.rand(4).tolist()


def test_set_seed_makes_python_and_torch_repeat():
    set_seed(7)
    first = _draws()
    set_seed(7)
    assert _draws() == first
    set_seed(8)
    other = _draws()
    assert other[0] != first[0] and other[1] != first[1]


def test_set_seed_fixes_model_init():
    set_seed(3)
    a = torch.nn.Linear(5, 5).weight.detach().clone()
    torch.rand(100)  # the generator moves on...
    set_seed(3)  # ...and is put back
    assert torch.equal(torch.nn.Linear(5, 5).weight, a)


def test_synchronize_waits_only_for_cuda(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    synchronize("cpu")
    synchronize(torch.device("cpu"))
    assert calls == []  # a no-op on CPU: never touches CUDA
    synchronize(torch.device("cuda", 0))
    synchronize("cuda")
    assert calls == [torch.device("cuda", 0), "cuda"]


def test_no_tf32_fixture_turns_tf32_off_for_the_gpu_comparisons(no_tf32):
    """The GPU parity tests (test_rnn_gpu, test_cnn_gpu) compare float32 against float32: the
    shared fixture must really turn TF32 off in cuBLAS and cuDNN (settable without a GPU)."""
    assert torch.backends.cuda.matmul.allow_tf32 is False
    assert torch.backends.cudnn.allow_tf32 is False


@pytest.fixture
def cpp_extension_logger():
    logger = logging.getLogger("torch.utils.cpp_extension")
    before = logger.level
    yield logger
    logger.setLevel(before)


@pytest.mark.parametrize("gpu, quiet", [(False, True), (True, False)])
def test_cuda_home_notice_is_silenced_only_without_a_gpu(monkeypatch, cpp_extension_logger,
                                                          gpu, quiet):
    cpp_extension_logger.setLevel(logging.NOTSET)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    quiet_cuda_home_notice()
    assert (cpp_extension_logger.level == logging.ERROR) is quiet
    assert cpp_extension_logger.isEnabledFor(logging.WARNING) is not quiet


def _cpp_extension_stderr(quiet: bool) -> str:
    """What a fresh process prints while torch.compile's C++ helpers load, with or without
    quiet_cuda_home_notice() first."""
    code = ("from bench.system.device import quiet_cuda_home_notice; "
            f"{'quiet_cuda_home_notice(); ' if quiet else ''}import torch.utils.cpp_extension")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stderr


@pytest.mark.skipif(torch.cuda.is_available() or torch.version.cuda is None,
                    reason="torch logs the notice only in a CUDA build on a machine without a GPU")
def test_a_cpu_run_prints_no_cuda_home_notice_when_compile_loads_its_helpers():
    assert "CUDA_HOME" in _cpp_extension_stderr(quiet=False)  # torch still logs it unasked
    assert "CUDA_HOME" not in _cpp_extension_stderr(quiet=True)
