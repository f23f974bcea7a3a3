"""bench.machine: metadata fields and types, fingerprint stability, git commit info, env text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.system import machine as m

MACHINE_KEYS = {*m.HARDWARE_FIELDS, "operating_system", "fingerprint"}
SOFTWARE_KEYS = {"python", "torch", "torchvision", "cuda", "cudnn", "driver", "threads",
                 "interop_threads", "mkldnn", "mkl", "openmp", "tf32_matmul", "tf32_cudnn",
                 "cudnn_benchmark", "cudnn_deterministic", "pytest_benchmark", "platform",
                 "malloc", "bptt_kernel", "cpu_capability"}
GIB = re.compile(r"^\d+\.\d GiB$")


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def _check_machine_types(info: dict) -> None:
    assert set(info) == MACHINE_KEYS
    assert isinstance(info["host_processor_model_name"], str) and info["host_processor_model_name"]
    assert isinstance(info["host_processor_vcpu_count"], int)
    assert info["host_processor_vcpu_count"] >= 1
    cores = info["host_processor_core_count"]
    assert cores is None or 1 <= cores <= info["host_processor_vcpu_count"]
    assert GIB.match(info["host_memory_capacity"])
    assert isinstance(info["operating_system"], str) and info["operating_system"]
    assert re.fullmatch(r"[0-9a-f]{16}", info["fingerprint"])


def test_collect_machine_cpu_only(no_gpu):
    info = m.collect_machine("cpu")
    _check_machine_types(info)
    assert info["accelerator_model_name"] is None
    assert info["accelerators_per_node"] == 0
    assert info["accelerator_memory_capacity"] is None


def test_collect_machine_fallbacks_without_cpuinfo_and_psutil(monkeypatch, no_gpu):
    # None in sys.modules makes `import cpuinfo` raise ImportError, as on a bare GPU machine.
    monkeypatch.setitem(sys.modules, "cpuinfo", None)
    monkeypatch.setitem(sys.modules, "psutil", None)
    m._cpu_model_name.cache_clear()
    try:
        _check_machine_types(m.collect_machine("cpu"))
    finally:
        m._cpu_model_name.cache_clear()


def test_fingerprint_is_stable_and_ignores_os_and_software(no_gpu):
    first, second = m.collect_machine("cpu"), m.collect_machine("cpu")
    assert first["fingerprint"] == second["fingerprint"]
    other_os = {**first, "operating_system": "Some Other OS 1.0", "torch": "9.9"}
    assert m.fingerprint(other_os) == first["fingerprint"]
    more_memory = {**first, "host_memory_capacity": "999.0 GiB"}
    assert m.fingerprint(more_memory) != first["fingerprint"]


def test_fingerprint_of_literal_fields_is_order_independent():
    fields = {"host_processor_model_name": "Example CPU", "host_processor_core_count": 4,
              "host_processor_vcpu_count": 8, "host_memory_capacity": "15.5 GiB",
              "accelerator_model_name": None, "accelerators_per_node": 0,
              "accelerator_memory_capacity": None}
    reordered = dict(reversed(list(fields.items())))
    assert m.fingerprint(fields) == m.fingerprint(reordered)
    assert len(m.fingerprint(fields)) == 16


def test_collect_software(no_gpu):
    sw = m.collect_software("cpu")
    assert set(sw) == SOFTWARE_KEYS
    assert sw["torch"] == torch.__version__
    assert sw["threads"] == torch.get_num_threads()
    assert sw["interop_threads"] == torch.get_num_interop_threads()
    assert sw["driver"] is None  # no GPU visible
    for flag in ("mkldnn", "mkl", "openmp", "tf32_matmul", "tf32_cudnn", "cudnn_benchmark",
                 "cudnn_deterministic"):
        assert isinstance(sw[flag], bool), flag
    assert re.match(r"^\d+\.\d+", sw["pytest_benchmark"])


def test_cpu_capability_is_what_aten_dispatches_to():
    assert m.collect_software()["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    # lowered by the environment, the record follows (a fresh process: read once at start)
    code = ("from bench.system import machine as m; "
            "print(m.collect_software()['cpu_capability'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "ATEN_CPU_CAPABILITY": "default"}, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "DEFAULT"


def test_the_card_names_the_cpu_kernels():
    from reports import card

    fields = dict(card.fields({"machine": {}, "software": {"cpu_capability": "AVX2"}}))
    assert fields["CPU kernels"] == "AVX2 (the vector ISA ATen dispatches to)"
    assert dict(card.fields({"machine": {}, "software": {}}))["CPU kernels"] == "not recorded"


def test_collect_software_follows_thread_setting():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert m.collect_software()["threads"] == 1
    finally:
        torch.set_num_threads(before)


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_commit_info_on_a_git_repo(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True,
                          capture_output=True, text=True).stdout.strip()
    assert m.commit_info(tmp_path) == {"sha": head, "dirty": False}
    (tmp_path / "a.txt").write_text("two\n")
    assert m.commit_info(tmp_path) == {"sha": head, "dirty": True}


def test_commit_info_outside_a_repo(tmp_path, monkeypatch):
    # Stop git from finding a repository in some parent of the temp dir.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert m.commit_info(tmp_path)["sha"] is None
    assert m.commit_info(tmp_path / "does-not-exist") == {"sha": None, "dirty": None}


def test_commit_info_without_git(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no git executable
    assert m.commit_info(tmp_path) == {"sha": None, "dirty": None}


def test_format_env_groups_and_alignment():
    text = m.format_env({"host_processor_model_name": "Example CPU 9000", "fingerprint": "ab"},
                        {"torch": "2.11.0", "mkl": True, "driver": None},
                        {"sha": "deadbeef", "dirty": False})
    lines = text.splitlines()
    assert [line for line in lines if line.endswith(":")] == ["Machine:", "Software:", "Commit:"]
    entries = [line for line in lines if line.startswith("  ")]
    assert len(entries) == 7
    value_columns = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in entries}
    assert len(value_columns) == 1  # every value starts in the same column
    assert "Example CPU 9000" in text and "mkl:" in text
    assert "yes" in text and "n/a" in text and "deadbeef" in text


def test_collect_env_and_format_mentions_cpu(no_gpu):
    env = m.collect_env("cpu")
    assert set(env) == {"machine", "software", "commit"}
    assert set(env["commit"]) == {"sha", "dirty"}
    text = m.format_env(**env)
    assert env["machine"]["host_processor_model_name"] in text


class _FakeProps:
    name = "Example GPU 80GB"
    total_memory = 80 * 2**30


def test_accelerator_fields_and_driver_with_a_fake_gpu(monkeypatch, tmp_path):
    """The GPU branch, exercised on any machine: torch.cuda and nvidia-smi are stand-ins."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    seen = []
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: seen.append(i) or _FakeProps)
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 570.86.15\necho 570.86.15\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    info = m.collect_machine("cuda:1")
    assert seen == [1]  # the GPU the run uses
    assert info["accelerator_model_name"] == "Example GPU 80GB"
    assert info["accelerators_per_node"] == 2
    assert info["accelerator_memory_capacity"] == "80.0 GiB"
    assert m.collect_machine("cpu")["fingerprint"] == info["fingerprint"]  # same box
    assert m._driver_version() == "570.86.15"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_collect_on_a_real_gpu():
    info = m.collect_machine("cuda")
    assert info["accelerator_model_name"] == torch.cuda.get_device_name(0)
    assert info["accelerators_per_node"] == torch.cuda.device_count()
    assert GIB.match(info["accelerator_memory_capacity"])
    sw = m.collect_software("cuda")
    assert sw["cuda"] == torch.version.cuda
    assert sw["driver"] is None or re.match(r"^\d+\.\d+", sw["driver"])


def test_commit_info_names_the_checkout_that_holds_the_source():
    """The default looks at the repository around bench/ (not bench/ itself, not the cwd)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout (an sdist or a copy): commit_info() is null by design")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                          text=True).stdout.strip()
    assert m.commit_info()["sha"] == head


def test_mnistbench_commit_names_the_commit_of_a_copied_tree(tmp_path, monkeypatch):
    """The GPU machine runs a copy of the tree whose .git (if any) is not the commit sent:
    MNISTBENCH_COMMIT names it there, dirty unknown; unset, git (or nothing) answers."""
    monkeypatch.setattr(m, "_SOURCE_DIR", tmp_path)
    monkeypatch.delenv("MNISTBENCH_COMMIT", raising=False)
    assert m.commit_info() == {"sha": None, "dirty": None}
    monkeypatch.setenv("MNISTBENCH_COMMIT", "0123abc")
    assert m.commit_info() == {"sha": "0123abc", "dirty": None}
    root = Path(__file__).resolve().parents[1]
    monkeypatch.setattr(m, "_SOURCE_DIR", root)
    assert m.commit_info() == {"sha": "0123abc", "dirty": None}
    assert m.commit_info(tmp_path)["sha"] is None  # an explicit repo_dir asks git, not the env
