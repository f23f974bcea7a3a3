"""results.json: the versioned file format, a record's identity, load and validation.

The records are bench.store.schema's, the checks bench.store.validate's. Files are plain JSON
(never pickle, never eval), carry `tool` so our files are told from other programs' JSON, and
carry `schema_version` so a newer file is refused rather than misread (an older one is read
upgraded).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path

from bench.errors import ResultsError
from bench.store.schema import SCHEMA_VERSION, TOOL
from bench.store.validate import validate

__all__ = ["IDENTITY", "SCHEMA_VERSION", "TOOL", "load", "new_run_id", "record_id",
           "utc_now_iso", "validate"]

# --- identity and time -----------------------------------------------------------------------


def utc_now_iso() -> str:
    """Now in UTC as ISO 8601 with a `Z`, to the second: "2026-11-27T01:30:00Z"."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(now: datetime | None = None) -> str:
    """"YYYYMMDD-HHMMSS-xxxx": UTC time (naive `now` is taken as UTC) plus 4 random hex digits."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


# What identifies a benchmark or training record: resume skips, and compare matches, on these.
IDENTITY = ("name", "device")


def record_id(kind: str, name: str, device: str, repetition: int | None = None) -> str:
    """"repetition:rnn/loop/forward/...@cpu#2": one finished item of a run (progress, resume)."""
    return f"{kind}:{name}@{device}" + ("" if repetition is None else f"#{repetition}")


# --- loading ---------------------------------------------------------------------------------


def _directory_error(path: Path) -> ResultsError:
    inner = path / "results.json"
    hint = f"; try {inner}" if inner.is_file() else "; pass the results.json inside it"
    return ResultsError(f"{path} is a directory, not a results file{hint}")


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file; check the path "
                           "(`mnistbench run` writes DIR/results.json)") from None
    except IsADirectoryError:
        raise _directory_error(path) from None
    except PermissionError:
        if path.is_dir():  # what Windows says for a directory
            raise _directory_error(path) from None
        raise ResultsError(f"{path}: permission denied; make the file readable "
                           "or copy it somewhere you can read it") from None
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror}); check the file") from None
    if not data.strip():
        raise ResultsError(f"{path} is empty (the run that wrote it probably died before "
                           "saving); re-run `mnistbench run`")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ResultsError(f"{path} is not a JSON text file (undecodable byte at offset "
                           f"{e.start}); pass a results.json written by `mnistbench run`") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def load(path: str | os.PathLike) -> dict:
    """Read and validate a results.json; every problem is a one-line ResultsError."""
    path = Path(path)
    text = _read_text(path)
    try:
        obj = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        truncated = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated")
        what = ("is truncated JSON (it stops before the data is complete, as when a copy or "
                "a run was interrupted)" if truncated else "is not valid JSON")
        raise ResultsError(f"{path} {what}: {e.msg} (line {e.lineno}, column {e.colno}); "
                           "pass a complete results.json written by `mnistbench run`") from None
    except (ValueError, RecursionError) as e:
        raise ResultsError(f"{path} is not valid results JSON ({e}); pass a results.json "
                           "written by `mnistbench run`") from None
    return validate(obj, source=str(path))
