"""results.json: the versioned file format, a record's identity, load and validation.

The layout is documented in docs/architecture.md ("results.json (schema_version 1)"). Files are
plain JSON (never pickle, never eval), carry `tool` so our files are told from other programs'
JSON, and carry `schema_version` so a newer file is refused rather than misread.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from bench.errors import ResultsError

SCHEMA_VERSION = 1
TOOL = "mnistbench"
STATUSES = ("ok", "failed", "skipped")
RUN_STATUSES = ("complete", "partial")
_REDO = "fix the file or re-run `mnistbench run`"

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


def record_id(kind: str, name: str, device: str) -> str:
    """"benchmark:rnn/loop/forward/...@cpu": one finished item of a run (progress, resume)."""
    return f"{kind}:{name}@{device}"


# --- validation ------------------------------------------------------------------------------

_KINDS: dict[str, tuple[str, Callable[[object], bool]]] = {
    "str": ("a string", lambda v: isinstance(v, str)),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number",
               lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "null": ("null", lambda v: v is None),
    "object": ("an object", lambda v: isinstance(v, dict)),
    "list": ("a list", lambda v: isinstance(v, list)),
}
_TOP = {"run_id": "str", "created_at": "str", "status": "str", "profile": "str",
        "config": "object", "machine": "object", "software": "object", "commit": "object",
        "dataset": "object|null", "benchmarks": "list", "training": "list"}
_TOP_OPTIONAL = {"finished_at": "str|null", "pytest_benchmark_json": "str|null"}
_MACHINE = {"host_processor_model_name": "str|null", "host_processor_core_count": "int|null",
            "host_processor_vcpu_count": "int|null", "host_memory_capacity": "str|null",
            "accelerator_model_name": "str|null", "accelerators_per_node": "int",
            "accelerator_memory_capacity": "str|null", "operating_system": "str|null",
            "fingerprint": "str"}
_COMMIT = {"sha": "str|null", "dirty": "bool|null"}
_BENCHMARK = {"name": "str", "group": "str", "implementation": "str", "device": "str",
              "params": "object", "status": "str", "error": "str|null", "warnings": "list"}
# Only meaningful for a case that ran; a failed or skipped case may carry nulls.
_BENCHMARK_OK = {"stats": "object", "compile_s": "number|null", "noisy": "bool"}
_STATS = {"min": "number", "max": "number", "median": "number", "mean": "number",
          "stddev": "number", "iqr": "number", "q1": "number", "q3": "number",
          "rounds": "int", "samples": "list"}
_TRAINING = {"model": "str", "variant": "str|null", "device": "str", "seed": "int",
             "status": "str", "error": "str|null"}
_TRAINING_OK = {"params_count": "int", "flops": "number|null", "epochs": "list",
                "time_to_target_s": "number|null", "target_acc": "number|null",
                "train_images": "int", "test_images": "int", "images_per_s": "number|null"}
# train_loss may be null: a diverged run's NaN loss is written as null (strict JSON has no NaN).
_EPOCH = {"epoch": "int", "time_s": "number", "train_loss": "number|null", "test_acc": "number"}


def _json_type(value: object) -> str:
    """How a found value reads in a message: "null", "a list", "the string 'fast'"."""
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, bool):
        return "a boolean"
    kind = next((k for k in ("null", "int", "number", "object", "list") if _KINDS[k][1](value)),
                None)
    return _KINDS[kind][0] if kind else type(value).__name__


def _fail(source: str, problem: str) -> ResultsError:
    return ResultsError(f"{source}: {problem}; {_REDO}")


def _check_value(value: object, kinds: str, path: str, source: str) -> None:
    """`value` is of one of the `a|b` kinds, else a ResultsError naming `path`."""
    allowed = kinds.split("|")
    if not any(_KINDS[k][1](value) for k in allowed):
        expected = " or ".join(_KINDS[k][0] for k in allowed)
        raise _fail(source, f"{path} should be {expected}, found {_json_type(value)}")


def _check(obj: dict, spec: dict[str, str], where: str, source: str,
           optional: bool = False, nullable: bool = False) -> None:
    """Each key of `spec` is present (unless optional) and of its kinds (`nullable`: or null)."""
    for key, kinds in spec.items():
        path = f"{where}.{key}" if where else key
        kinds = f"{kinds}|null" if nullable and "null" not in kinds else kinds
        if key in obj:
            _check_value(obj[key], kinds, path, source)
        elif not optional:
            expected = " or ".join(_KINDS[k][0] for k in kinds.split("|"))
            raise _fail(source, f"{path} is missing (expected {expected})")


def _check_enum(value: object, allowed: tuple[str, ...], path: str, source: str) -> None:
    if value not in allowed:
        raise _fail(source, f"{path} should be one of {', '.join(allowed)}, found {value!r}")


def _check_entries(entries: list, name: str, source: str, check: Callable) -> None:
    for i, entry in enumerate(entries):
        where = f"{name}[{i}]"
        if not isinstance(entry, dict):
            raise _fail(source, f"{where} should be an object, found {_json_type(entry)}")
        check(entry, where, source)


def _check_benchmark(entry: dict, where: str, source: str) -> None:
    _check(entry, _BENCHMARK, where, source)
    _check_enum(entry["status"], STATUSES, f"{where}.status", source)
    ok = entry["status"] == "ok"
    _check(entry, _BENCHMARK_OK, where, source, nullable=not ok)
    if isinstance(entry["stats"], dict):
        stats, at = entry["stats"], f"{where}.stats"
        _check(stats, _STATS, at, source)
        for i, value in enumerate(stats["samples"]):
            _check_value(value, "number", f"{at}.samples[{i}]", source)
        if len(stats["samples"]) != stats["rounds"]:
            raise _fail(source, f"{at}.samples holds {len(stats['samples'])} values "
                                f"but {at}.rounds says {stats['rounds']}")
        if ok:
            _check_positive_durations(stats, at, source)


def _check_positive_durations(stats: dict, at: str, source: str) -> None:
    """A measured duration is never zero or negative; such a file was edited or corrupted."""
    for key in ("min", "median", "mean"):
        if stats[key] <= 0:
            raise _fail(source, f"{at}.{key} is {stats[key]}, but a measured duration must be "
                                "positive")
    if any(value <= 0 for value in stats["samples"]):
        raise _fail(source, f"{at}.samples holds a duration <= 0; measured durations are "
                            "positive")


def _check_training(entry: dict, where: str, source: str) -> None:
    _check(entry, _TRAINING, where, source)
    _check_enum(entry["status"], STATUSES, f"{where}.status", source)
    _check(entry, _TRAINING_OK, where, source, nullable=entry["status"] != "ok")
    _check_entries(entry["epochs"] or [], f"{where}.epochs", source,
                   lambda e, at, src: _check(e, _EPOCH, at, src))


def _check_identity(obj: dict, source: str) -> None:
    """Ours, and a version this code reads — before anything else is looked at."""
    if obj.get("tool") != TOOL:
        hint = (" (it looks like pytest-benchmark's own JSON: pass the results.json beside it)"
                if "machine_info" in obj and "benchmarks" in obj
                else " (it looks like JSON from another program)")
        raise ResultsError(f"{source} is not an mnistbench results file{hint}; pass a "
                           "results.json written by `mnistbench run`")
    version = obj.get("schema_version")
    if not _KINDS["int"][1](version):
        raise _fail(source, f"schema_version should be an integer, found {_json_type(version)}")
    if version > SCHEMA_VERSION:
        raise ResultsError(f"{source} was written by a newer mnistbench (schema_version "
                           f"{version}; this one reads {SCHEMA_VERSION}): upgrade mnistbench "
                           "to read it")
    if version < SCHEMA_VERSION:
        raise ResultsError(f"{source} claims schema_version {version}, but no mnistbench ever "
                           f"wrote a version before {SCHEMA_VERSION}: the file is damaged or "
                           "hand-made; re-run `mnistbench run`")


def validate(obj: object, source: str = "<results>") -> dict:
    """Check `obj` against schema_version 1 and return it; ResultsError names the bad path."""
    if not isinstance(obj, dict):
        raise ResultsError(f"{source} holds {_json_type(obj)}, not an mnistbench results "
                           "object; pass a results.json written by `mnistbench run`")
    _check_identity(obj, source)
    _check(obj, _TOP, "", source)
    _check(obj, _TOP_OPTIONAL, "", source, optional=True)
    _check_enum(obj["status"], RUN_STATUSES, "status", source)
    _check(obj["machine"], _MACHINE, "machine", source)
    _check(obj["commit"], _COMMIT, "commit", source)
    _check_entries(obj["benchmarks"], "benchmarks", source, _check_benchmark)
    _check_entries(obj["training"], "training", source, _check_training)
    return obj


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
