"""bench.system.allocator: timing workers keep freed memory, so no call pays page faults that
depend on what the process ran before; the settings are recorded and reused by checks."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from bench.run import repetitions
from bench.system import allocator, machine
from reports import card

GLIBC = platform.libc_ver()[0] == "glibc"
glibc_only = pytest.mark.skipif(not GLIBC, reason="the settings are glibc's; this C library "
                                "is not glibc, so workers keep its defaults")

# A child that mallocs, touches and frees one 17 MiB block five times and prints the minor page
# faults of each round: the block is above glibc's default 128 KiB mmap threshold.
FAULTS = r"""
import ctypes, json, resource
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size, rounds = 17 << 20, []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    libc.free(block)
    rounds.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps(rounds))
"""


def _faults(env: dict[str, str]) -> list[int]:
    done = subprocess.run([sys.executable, "-c", FAULTS], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in allocator.users_own(dict(os.environ))}


@glibc_only
def test_worker_settings_keep_a_freed_block_so_later_rounds_fault_nothing():
    pages = (17 << 20) // 4096
    mmapped = _faults({**_clean_env(), "MALLOC_MMAP_THRESHOLD_": str(128 << 10)})
    assert all(r >= pages // 2 for r in mmapped), mmapped  # every round pays its pages again
    kept = _faults(allocator.worker_env(_clean_env()))
    assert kept[0] >= pages // 2 and all(r < pages // 20 for r in kept[1:]), kept


@glibc_only
def test_worker_env_adds_the_settings_unless_the_user_set_their_own():
    env = allocator.worker_env({"PATH": "/bin"})
    assert env == {"PATH": "/bin", **allocator.SETTINGS}
    own = {"PATH": "/bin", "MALLOC_ARENA_MAX": "2"}
    assert allocator.worker_env(own) == own
    tunables = {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"}
    assert allocator.worker_env(tunables) == tunables
    assert allocator.describe(own) == {"library": "glibc", "version": platform.libc_ver()[1],
                                       "env": {"MALLOC_ARENA_MAX": "2"}, "source": "user"}
    assert allocator.describe({})["source"] == "mnistbench"
    assert allocator.describe({})["env"] == allocator.SETTINGS


def test_the_timing_worker_gets_the_settings_and_a_single_compile_thread(monkeypatch):
    for k in list(allocator.users_own(dict(os.environ))):
        monkeypatch.delenv(k)
    env = repetitions.worker_env()
    assert env["TORCHINDUCTOR_COMPILE_THREADS"] == "1"
    assert allocator.users_own(env) == (allocator.SETTINGS if GLIBC else {})


def test_a_check_measures_under_the_settings_the_run_recorded():
    recorded = {"library": "glibc", "version": "2.36", "source": "mnistbench",
                "env": {"MALLOC_MMAP_THRESHOLD_": "1048576"}}
    env = allocator.env_for(recorded, {"PATH": "/bin", "MALLOC_ARENA_MAX": "4"})
    assert env == {"PATH": "/bin", "MALLOC_MMAP_THRESHOLD_": "1048576"}
    default = allocator.env_for({"source": "default", "env": {}}, {"MALLOC_ARENA_MAX": "4"})
    assert default == {}  # the run had the defaults: so does the check
    older = {"PATH": "/bin", "MALLOC_ARENA_MAX": "4"}
    assert allocator.env_for(None, older) == older  # recorded nothing: left as it is


def test_the_card_and_env_say_what_the_workers_ran_with():
    recorded = {"library": "glibc", "version": "2.36", "source": "mnistbench",
                "env": {"MALLOC_TRIM_THRESHOLD_": "9", "MALLOC_MMAP_THRESHOLD_": "8"}}
    line = "glibc 2.36: MALLOC_MMAP_THRESHOLD_=8, MALLOC_TRIM_THRESHOLD_=9 (set by mnistbench)"
    assert allocator.summary(recorded) == line
    assert allocator.summary(None) == "not recorded"  # a run from before the record
    assert allocator.summary({"library": "musl", "env": {}, "source": "default"}) == \
        "musl: its default settings"
    fields = dict(card.fields({"machine": {}, "software": {"malloc": recorded}}))
    assert fields["Allocator"] == line
    assert dict(card.fields({"machine": {}, "software": {}}))["Allocator"] == "not recorded"
    assert line in machine.format_env({}, {"malloc": recorded}, {})
