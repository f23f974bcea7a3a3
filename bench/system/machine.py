"""Hardware and software metadata for results.json, `mnistbench env`, and the commit under test.

Field names in the `machine` block follow the MLPerf system-description JSON
(mlcommons/policies, "system_desc_id.json"), so readers who know MLPerf can read ours.
The `machine` block describes the whole box — every visible GPU — not only the device a run used,
so a CPU run and a GPU run on the same machine share one `fingerprint`.

Sources, best first: py-cpuinfo and psutil (they parse /proc and sysfs for us), torch.cuda,
`platform`; the stdlib fallbacks run only where those libraries are not installed (the GPU machines
may lack them).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
from pathlib import Path

import torch

from bench.system import allocator
from implementations.rnn import bptt_kernel

# The fields that identify the hardware; OS and software stay out so an upgrade keeps the id.
HARDWARE_FIELDS = (
    "host_processor_model_name",
    "host_processor_core_count",
    "host_processor_vcpu_count",
    "host_memory_capacity",
    "accelerator_model_name",
    "accelerators_per_node",
    "accelerator_memory_capacity",
)
_SOURCE_DIR = Path(__file__).resolve().parents[2]
_SUBPROCESS_TIMEOUT_S = 5


def _gib(n_bytes: int | None) -> str | None:
    return None if not n_bytes else f"{n_bytes / 2**30:.1f} GiB"


def _proc_cpuinfo() -> list[dict[str, str]]:
    """Processor records of /proc/cpuinfo; only used when py-cpuinfo / psutil are missing."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    records = []
    for block in text.split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        if fields:
            records.append({k.strip(): v.strip() for k, v in fields.items()})
    return records


@functools.lru_cache(maxsize=1)
def _cpu_model_name() -> str | None:
    """The CPU's marketing name. py-cpuinfo takes ~0.2-1 s, hence the cache."""
    try:
        import cpuinfo
    except ImportError:
        names = [r["model name"] for r in _proc_cpuinfo() if "model name" in r]
        return names[0] if names else (platform.processor() or platform.machine() or None)
    return cpuinfo.get_cpu_info().get("brand_raw") or platform.processor() or None


def _cpu_counts() -> tuple[int | None, int | None]:
    """(physical cores, logical CPUs) of the host."""
    try:
        import psutil
    except ImportError:
        cores = {(r.get("physical id"), r.get("core id")) for r in _proc_cpuinfo()
                 if "core id" in r}
        return (len(cores) or None), os.cpu_count()
    return psutil.cpu_count(logical=False), psutil.cpu_count(logical=True)


def _memory_bytes() -> int | None:
    try:
        import psutil
    except ImportError:
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not on this OS
            return None
    return psutil.virtual_memory().total


def _operating_system() -> str:
    try:
        pretty = platform.freedesktop_os_release().get("PRETTY_NAME")
    except OSError:  # not Linux, or no os-release file
        pretty = None
    kernel = f"{platform.system()} {platform.release()}".strip()
    return f"{pretty} ({kernel})" if pretty else platform.platform()


def _gpu_index(device: torch.device | str | None) -> int:
    dev = torch.device(device) if device is not None else torch.device("cpu")
    if dev.type == "cuda" and dev.index is not None:
        return dev.index
    return torch.cuda.current_device() if dev.type == "cuda" else 0


def _accelerator(device: torch.device | str | None) -> dict:
    """The GPU the run uses (or GPU 0 on a CPU run), plus how many this node has."""
    if not torch.cuda.is_available():
        return {"accelerator_model_name": None, "accelerators_per_node": 0,
                "accelerator_memory_capacity": None}
    props = torch.cuda.get_device_properties(_gpu_index(device))
    return {"accelerator_model_name": props.name,
            "accelerators_per_node": torch.cuda.device_count(),
            "accelerator_memory_capacity": _gib(props.total_memory)}


def fingerprint(machine: dict) -> str:
    """sha256[:16] of the canonical JSON of the hardware fields only."""
    hardware = {key: machine.get(key) for key in HARDWARE_FIELDS}
    canonical = json.dumps(hardware, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def collect_machine(device: torch.device | str | None = None) -> dict:
    """The `machine` block of results.json (MLPerf system-description names + fingerprint)."""
    cores, vcpus = _cpu_counts()
    machine = {
        "host_processor_model_name": _cpu_model_name(),
        "host_processor_core_count": cores,
        "host_processor_vcpu_count": vcpus,
        "host_memory_capacity": _gib(_memory_bytes()),
        **_accelerator(device),
        "operating_system": _operating_system(),
    }
    machine["fingerprint"] = fingerprint(machine)
    return machine


def _version(distribution: str) -> str | None:
    """An installed package's version without importing it (torchvision's import is slow)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _run(cmd: list[str], cwd: Path | None = None) -> str | None:
    """stdout of a short helper command, or None when it is missing, fails or hangs."""
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              timeout=_SUBPROCESS_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _driver_version() -> str | None:
    """NVIDIA driver version via nvidia-smi (torch does not expose it); None without a GPU."""
    if not torch.cuda.is_available() or torch.version.cuda is None:
        return None
    out = _run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"])
    return out.splitlines()[0].strip() if out else None


def _cpu_capability() -> str | None:
    """The vector ISA ATen's CPU kernels dispatch to here ("AVX512", "AVX2", "DEFAULT", ...):
    the same CPU model runs at another speed when ATEN_CPU_CAPABILITY lowers it. None where
    torch cannot tell."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):
        return None


def collect_software(device: torch.device | str | None = None) -> dict:
    """The `software` block: versions and the backend flags that change timings.

    The flags are read at call time, so call it after the run has set threads and backends.
    `device` is accepted for symmetry with `collect_machine`; the values are process-wide.
    """
    cudnn = torch.backends.cudnn
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": _version("torchvision"),
        "cuda": torch.version.cuda,
        "cudnn": cudnn.version() if cudnn.is_available() else None,
        "driver": _driver_version(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "mkl": torch.backends.mkl.is_available(),
        "openmp": torch.backends.openmp.is_available(),
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_cudnn": bool(cudnn.allow_tf32),
        "cudnn_benchmark": bool(cudnn.benchmark),
        "cudnn_deterministic": bool(cudnn.deterministic),
        "pytest_benchmark": _version("pytest-benchmark"),
        "platform": platform.platform(),
        "malloc": allocator.describe(),  # what the timing workers run with
        "bptt_kernel": bptt_kernel.status(),  # style bptt's LSTM loops: compiled or Python
        "cpu_capability": _cpu_capability(),
    }


def commit_info(repo_dir: str | os.PathLike | None = None) -> dict:
    """{sha, dirty} of the checkout holding mnistbench's source (or `repo_dir`); never raises.

    sha is None outside a git checkout, without git, or before the first commit; dirty is None
    when git cannot tell (untracked files count as dirty: they can change what runs).
    MNISTBENCH_COMMIT, when set, names the commit of the source instead, with dirty None: the GPU
    machine runs a copy of the working tree whose .git, if any, is not the commit that was sent
    (seen there: the session's first HEAD, plus "uncommitted changes"); scripts/gpu_check.sh's
    caller sets it.
    """
    named = os.environ.get("MNISTBENCH_COMMIT")
    if repo_dir is None and named:
        return {"sha": named, "dirty": None}
    if repo_dir is None and not (_SOURCE_DIR / ".git").exists():
        # An installed copy (site-packages) may sit inside someone else's repository: its commit
        # says nothing about the mnistbench code that ran.
        return {"sha": None, "dirty": None}
    cwd = Path(repo_dir) if repo_dir is not None else _SOURCE_DIR
    sha = _run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=cwd)
    status = _run(["git", "status", "--porcelain"], cwd=cwd)
    return {"sha": sha or None, "dirty": None if status is None else bool(status)}


def collect_env(device: torch.device | str | None = None) -> dict:
    """{machine, software, commit}: exactly the blocks results.json carries."""
    return {"machine": collect_machine(device), "software": collect_software(device),
            "commit": commit_info()}


def _show(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def format_env(machine: dict, software: dict, commit: dict) -> str:
    """Human-readable `mnistbench env`: three groups of aligned `key: value` lines."""
    groups = (("Machine", machine), ("Software", software), ("Commit", commit))
    width = max(len(key) for _, block in groups for key in block) + 1
    lines: list[str] = []
    for title, block in groups:
        lines.append(f"{title}:" if not lines else f"\n{title}:")
        lines.extend(f"  {key + ':':<{width}} "
                     f"{allocator.summary(value) if key == 'malloc' else _show(value)}"
                     for key, value in block.items())
    return "\n".join(lines)
