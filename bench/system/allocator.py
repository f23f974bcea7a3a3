"""The C allocator's settings for timing workers: memory a case frees stays in the process.

glibc's malloc returns large blocks to the kernel, either because they were mmap()ed (blocks
above a threshold that glibc moves as the process runs) or because the free top of the heap
grew past the trim threshold. The next call then gets fresh pages and pays a page fault for
every 4 KiB it touches. How often that happens depends on the process's history, not on the
code under test. Measured on 2 cores (torch 2.14, glibc 2.36), the seed's `bmm` LSTM, forward
+ backward, allocates about 1.1 GB a call in 16.8 MB blocks:

    default settings, one fresh process   0 faults, about 300 ms a call; later in the same
                                          process about 100 000 faults, 395-420 ms
    every block mmap()ed                  293 000 faults, about 700 ms
    these settings                        0 faults, about 300 ms

so a case measured inside a worker that had already run other cases came out 12-27 % slower
than the same case under torch.utils.benchmark in a fresh process (scripts/check_timer.py).

Timing workers therefore get a fixed mmap threshold of 32 MiB (glibc's largest; setting it also
stops glibc from moving it) and a trim threshold too large to reach, unless the user set any
MALLOC_ variable of their own, which then stands. Blocks over 32 MiB are still mmap()ed on every
call, alike in every process. A worker lives for one repetition, so keeping its peak memory
costs nothing afterwards. results.json records what the workers ran with (`software.malloc`).
"""

from __future__ import annotations

import os
import platform

MMAP_THRESHOLD = 32 << 20  # the most glibc accepts (half its 64 MiB heap size on 64-bit)
TRIM_THRESHOLD = 1 << 40

SETTINGS = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
            "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}


def _glibc() -> str | None:
    """glibc's version, or None on another C library (musl, macOS, Windows)."""
    name, version = platform.libc_ver()
    return version if name == "glibc" else None


def users_own(env: dict[str, str]) -> dict[str, str]:
    """The MALLOC_ variables the user already set (glibc's tunables included)."""
    return {k: v for k, v in env.items()
            if k.startswith("MALLOC_") or (k == "GLIBC_TUNABLES" and "malloc" in v)}


def worker_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's) with the timing workers' allocator settings added, on
    glibc and when the user set none of their own."""
    env = dict(os.environ if env is None else env)
    if _glibc() is not None and not users_own(env):
        env.update(SETTINGS)
    return env


def describe(env: dict[str, str] | None = None) -> dict:
    """What timing workers run with, for results.json: {library, version, env, source}."""
    version = _glibc()
    worker = users_own(worker_env(env))
    own = users_own(dict(os.environ if env is None else env))
    source = "user" if own else ("mnistbench" if worker else "default")
    return {"library": "glibc" if version else platform.libc_ver()[0] or None,
            "version": version or None, "env": worker, "source": source}


def env_for(recorded: dict | None, env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` with the allocator settings a run recorded (`software.malloc`) in place of its own
    MALLOC_ variables, so a later check measures in the run's conditions; unchanged for a run
    that recorded none (older runs)."""
    env = dict(os.environ if env is None else env)
    if not recorded or not isinstance(recorded.get("env"), dict):
        return env
    own = users_own(env)
    env = {k: v for k, v in env.items() if k not in own}
    env.update({str(k): str(v) for k, v in recorded["env"].items()})
    return env


def summary(recorded: dict | None) -> str:
    """One line for people: 'glibc 2.36: MALLOC_MMAP_THRESHOLD_=33554432, ... (set by
    mnistbench)', or 'not recorded' for runs made before the settings were recorded."""
    if not recorded:
        return "not recorded"
    library = " ".join(str(v) for v in (recorded.get("library"), recorded.get("version"))
                       if v) or "unknown"
    settings = ", ".join(f"{k}={v}" for k, v in sorted((recorded.get("env") or {}).items()))
    who = {"mnistbench": "set by mnistbench", "user": "the user's own"}.get(
        recorded.get("source"), "")
    if not settings:
        return f"{library}: its default settings"
    return f"{library}: {settings}" + (f" ({who})" if who else "")
