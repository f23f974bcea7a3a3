"""What a user asked `mnistbench run` for, and the settings a run (or its --resume) uses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bench.errors import UsageError
from bench.store import rundir
from bench.timing.profiles import DEFAULT_PROFILE

DEFAULTS = {"profile": DEFAULT_PROFILE, "device": "auto", "dataset": "mnist", "seed": 0,
            "threads": None, "data_dir": None, "only": None}


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for; None = not given (so --resume can tell conflicts from defaults)."""

    profile: str | None = None
    device: str | None = None
    out: Path | None = None
    data_dir: str | None = None
    dataset: str | None = None
    resume: bool = False
    threads: int | None = None
    seed: int | None = None
    only: str | None = None  # a regular expression over case names: run only those that match
    report: bool = True
    # The data-parallel profile (issue 14): the launch, as torchrun takes it (bench.scaling).
    nproc_per_node: int | None = None  # ranks per node (default: every GPU, or core)
    nnodes: int | None = None  # default 1
    rdzv_endpoint: str | None = None  # HOST:PORT of the c10d rendezvous (several nodes)
    rdzv_timeout: int | None = None  # seconds for every node to join
    backend: str | None = None  # gloo | nccl (default: nccl on CUDA, gloo on CPU)


def given(opts: RunOptions) -> dict:
    return {k: getattr(opts, k) for k in DEFAULTS if getattr(opts, k) is not None}


def settings_of(opts: RunOptions, out: Path) -> dict:
    """The run's settings: the defaults overlaid with what was given — or, on --resume, the
    stored run's settings, refusing any given option that contradicts them."""
    if not opts.resume:
        return {**DEFAULTS, **given(opts)}
    stored = json.loads((out / rundir.HEADER).read_text(encoding="utf-8"))["config"]
    requested = stored.get("requested", {})
    for key, value in given(opts).items():
        if requested.get(key) != value and stored.get(key) != value:
            raise UsageError(f"--resume: the run in {out} used --{key.replace('_', '-')} "
                             f"{requested.get(key)!r}, not {value!r}; drop the option to continue "
                             "it as it started")
    return {**DEFAULTS, **requested}


def compile_only(pattern: str | None) -> re.Pattern | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--only {pattern!r} is not a valid regular expression ({exc}); "
                         "e.g. --only 'rnn/(loop|native)/'") from None
