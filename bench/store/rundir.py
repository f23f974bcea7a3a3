"""A run's directory: who may use it, what it already holds, and its case-by-case progress.

Files in a run directory:
  run.json              the run's header (id, config, machine, software, commit, dataset),
                        written once, atomically, before the first case
  progress.jsonl        one line per finished item (a case in one repetition, a repetition's
                        calibration, a skipped case, a training run), appended and fsynced
  results.json          the assembled results (status "partial" while incomplete)
  pytest-benchmark.json pytest-benchmark's own format, for `pytest-benchmark compare`
  report.html, summary.csv, summary.md
  .lock                 held (flock) while a run uses the directory
A killed run (even SIGKILL) loses at most the case in flight: `--resume` reads progress.jsonl.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path

from bench.errors import UsageError
from bench.store import atomic, results

HEADER = "run.json"
PROGRESS = "progress.jsonl"
RESULTS = "results.json"
LOCK = ".lock"


def check_out_dir(out: Path, resume: bool) -> None:
    """Refuse an --out that cannot hold this run, before anything is written."""
    try:
        _check_out_dir(out, resume)
    except OSError as exc:  # e.g. a parent that cannot be searched (stat says permission denied)
        raise UsageError(f"--out {out}: cannot inspect it ({exc.strerror or exc}); choose "
                         "another --out") from None


def _check_out_dir(out: Path, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a directory; give a new directory path")
    if resume:
        _check_resumable(out)
        return
    if not out.exists():
        _check_creatable(out)
        return
    if is_locked(out):
        raise UsageError(f"--out {out} is in use by another mnistbench run; wait for it or "
                         "choose another --out")
    if (out / RESULTS).exists() and _finished(out):
        raise UsageError(f"--out {out} already holds a finished run; it is never overwritten — "
                         "choose another --out")
    if (out / HEADER).exists():
        raise UsageError(f"--out {out} holds an unfinished run; continue it with "
                         f"`mnistbench run --resume --out {out}` or choose another --out")
    if any(out.iterdir()):
        raise UsageError(f"--out {out} is not empty and holds no mnistbench run; choose a new "
                         "or empty directory")
    atomic.check_writable(out, f"--out {out}")


def _check_resumable(out: Path) -> None:
    if not (out / HEADER).is_file():
        raise UsageError(f"--resume: {out} holds no mnistbench run to continue; run without "
                         "--resume to start one")
    if is_locked(out):
        raise UsageError(f"--out {out} is in use by another mnistbench run; wait for it to "
                         "finish before resuming")
    if _finished(out):
        raise UsageError(f"--resume: the run in {out} is already finished, nothing to continue; "
                         f"`mnistbench report {out / RESULTS}` renders it again")
    read_header(out)
    if (out / PROGRESS).exists():
        atomic.read_jsonl(out / PROGRESS)  # a corrupt line is a ResultsError now, not mid-run
    atomic.check_writable(out, f"--out {out}")


def read_header(out: Path) -> dict:
    """The run.json of `out`: a JSON object with a `config` object, else a UsageError."""
    path = out / HEADER
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise UsageError(f"--resume: {path} is unreadable or damaged ({reason}); the run "
                         "cannot be continued — start a new one with another --out") from None
    config = header.get("config") if isinstance(header, dict) else None
    if not isinstance(config, dict) or not isinstance(config.get("requested", {}), dict):
        raise UsageError(f"--resume: {path} is not an mnistbench run header (no config "
                         "object); the run cannot be continued — start a new one with "
                         "another --out")
    return header


def _finished(out: Path) -> bool:
    try:
        return results.load(out / RESULTS).get("status") == "complete"
    except UsageError:
        return False


def _check_creatable(out: Path) -> None:
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"--out {out}: {parent} is a file, so the directory cannot be "
                         "created; choose another --out")
    atomic.check_writable(parent, f"--out {out}")


def is_locked(out: Path) -> bool:
    lock_path = out / LOCK
    if not lock_path.exists():
        return False
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return True
        raise
    finally:
        os.close(fd)  # closing releases a lock we may have taken
    return False


class RunLock:
    """An flock on OUT/.lock: released by the kernel even when the process is SIGKILLed."""

    def __init__(self, out: Path):
        self.path = out / LOCK
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise UsageError(f"--out {self.path.parent} is in use by another mnistbench run; "
                             "wait for it or choose another --out") from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None


def entry_id(entry: dict) -> str:
    """The identity of a progress entry: a case's repetition, a repetition's calibration, a
    skipped case or a training run (see `results.record_id`)."""
    record = entry["record"]
    if entry["type"] == "calibration":
        return f"calibration#{record['repetition']}"
    return results.record_id(entry["type"], record["name"], record["device"],
                             record.get("repetition") if entry["type"] == "repetition" else None)


def load_progress(out: Path) -> list[dict]:
    """Finished entries, de-duplicated (last wins), the file rewritten clean for appending.

    A run killed mid-write leaves a torn last line; `atomic.read_jsonl` drops it, and rewriting
    the file keeps the next append from being glued onto it.
    """
    path = out / PROGRESS
    if not path.exists():
        return []
    entries = {entry_id(e): e for e in atomic.read_jsonl(path)}
    clean = list(entries.values())
    atomic.write_jsonl_atomic(path, clean)
    return clean
