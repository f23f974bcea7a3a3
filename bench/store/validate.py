"""Validation of a results object, derived from the schema's records (bench.store.schema).

Each record's fields and their type hints are the checks: a field is present (unless it has a
default), and of its type (`float` takes integers too, `X | None` takes null, `list[X]` checks
each element, a record type recurses). A few rules that types cannot say — a status from its
list, stats present when a case is ok, positive durations — are written per record below.
Schema-1 files (one repetition per case, no calibration) are upgraded in memory first, so
`report` and `compare` read them like any other.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Callable

from bench.errors import ResultsError
from bench.store import schema

_REDO = "fix the file or re-run `mnistbench run`"
_KINDS: dict[type, tuple[str, Callable[[object], bool]]] = {
    str: ("a string", lambda v: isinstance(v, str)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    bool: ("true or false", lambda v: isinstance(v, bool)),
    type(None): ("null", lambda v: v is None),
    dict: ("an object", lambda v: isinstance(v, dict)),
    list: ("a list", lambda v: isinstance(v, list)),
}


def _fail(source: str, problem: str) -> ResultsError:
    return ResultsError(f"{source}: {problem}; {_REDO}")


def _json_type(value: object) -> str:
    """How a found value reads in a message: "null", "a list", "the string 'fast'"."""
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, bool):
        return "a boolean"
    for kind in (type(None), int, float, dict, list):
        if _KINDS[kind][1](value):
            return _KINDS[kind][0]
    return type(value).__name__


def _options(hint: object) -> tuple[object, ...]:
    """The alternatives of `X | Y` (or Optional), else the hint alone."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _base(hint: object) -> type:
    origin = typing.get_origin(hint)
    return origin if origin is not None else hint  # list[float] -> list


def _describe(hint: object) -> str:
    names = []
    for option in _options(hint):
        base = _base(option)
        names.append("an object" if dataclasses.is_dataclass(base) else _KINDS[base][0])
    return " or ".join(names)


def _check_type(value: object, hint: object, path: str, source: str) -> None:
    for option in _options(hint):
        base = _base(option)
        if dataclasses.is_dataclass(base):
            if isinstance(value, dict):
                check_record(base, value, path, source)
                return
        elif _KINDS[base][1](value):
            if base is list and typing.get_args(option):
                item = typing.get_args(option)[0]
                for i, element in enumerate(value):
                    _check_type(element, item, f"{path}[{i}]", source)
            return
    raise _fail(source, f"{path} should be {_describe(hint)}, found {_json_type(value)}")


def _nests(hint: object) -> bool:
    """Does the hint hold a record (directly, optionally or as list items)?"""
    return any(dataclasses.is_dataclass(_base(o)) or any(map(_nests, typing.get_args(o)))
               for o in _options(hint))


def check_record(cls: type, obj: dict, where: str, source: str) -> None:
    """`obj` holds every field of record class `cls` with its type, and `cls`'s own rules.

    Plain fields first, then the record's rule, then nested records: a message names the
    outermost thing that is wrong.
    """
    hints = typing.get_type_hints(cls)
    present = []
    for f in dataclasses.fields(cls):
        path = f"{where}.{f.name}" if where else f.name
        if f.name in obj:
            present.append((f.name, path))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _fail(source, f"{path} is missing (expected {_describe(hints[f.name])})")
    for name, path in present:
        if not _nests(hints[name]):
            _check_type(obj[name], hints[name], path, source)
    rule = _RULES.get(cls)
    if rule is not None:
        rule(obj, where, source)
    for name, path in present:
        if _nests(hints[name]):
            _check_type(obj[name], hints[name], path, source)


def _enum(value: object, allowed: tuple[str, ...], path: str, source: str) -> None:
    if value not in allowed:
        raise _fail(source, f"{path} should be one of {', '.join(allowed)}, found {value!r}")


def _stats_rule(stats: dict, at: str, source: str, ok: bool) -> None:
    if len(stats["samples"]) != stats["rounds"]:
        raise _fail(source, f"{at}.samples holds {len(stats['samples'])} values "
                            f"but {at}.rounds says {stats['rounds']}")
    if not ok:
        return
    for key in ("min", "median", "mean"):  # a measured duration is never zero or negative
        if stats[key] <= 0:
            raise _fail(source, f"{at}.{key} is {stats[key]}, but a measured duration must be "
                                "positive")
    if any(value <= 0 for value in stats["samples"]):
        raise _fail(source, f"{at}.samples holds a duration <= 0; measured durations are "
                            "positive")


def _measured_rule(obj: dict, where: str, source: str) -> None:
    """Benchmark and Repetition: a status from the list; an ok one has sane stats."""
    _enum(obj["status"], schema.STATUSES, f"{where}.status", source)
    ok = obj["status"] == "ok"
    if ok and obj["stats"] is None:
        raise _fail(source, f"{where}.stats should be an object, found null")
    if isinstance(obj["stats"], dict):
        check_record(schema.Stats, obj["stats"], f"{where}.stats", source)
        _stats_rule(obj["stats"], f"{where}.stats", source, ok)


def _training_rule(obj: dict, where: str, source: str) -> None:
    _enum(obj["status"], schema.STATUSES, f"{where}.status", source)
    if obj["status"] != "ok":
        return
    for key in ("params_count", "train_images", "test_images"):
        if obj[key] is None:
            raise _fail(source, f"{where}.{key} should be an integer, found null")


def _rank_rule(obj: dict, where: str, source: str) -> None:
    _enum(obj["status"], schema.STATUSES, f"{where}.status", source)


def _scaling_rule(obj: dict, where: str, source: str) -> None:
    """A data-parallel record (issue 14): one rank and one device per world-size slot, batches
    that add up, and an ok one measured."""
    _enum(obj["status"], schema.STATUSES, f"{where}.status", source)
    _enum(obj["backend"], schema.BACKENDS, f"{where}.backend", source)
    size = obj["world_size"]
    if size < 1:
        raise _fail(source, f"{where}.world_size is {size}; a world has at least one rank")
    for key in ("ranks", "devices", "per_rank_batch"):
        if isinstance(obj[key], list) and len(obj[key]) != size:  # ranks: type-checked later
            raise _fail(source, f"{where}.{key} holds {len(obj[key])} entries but "
                                f"{where}.world_size is {size}")
    if sum(obj["per_rank_batch"]) != obj["global_batch"]:
        raise _fail(source, f"{where}.per_rank_batch adds up to {sum(obj['per_rank_batch'])}, "
                            f"not the global batch {obj['global_batch']}")
    if obj["status"] != "ok":
        return
    for key in ("step_s", "images_per_s", "training"):
        if obj[key] is None:
            raise _fail(source, f"{where}.{key} should be measured in an ok record, found null")
    if obj["images_per_s"] <= 0:
        raise _fail(source, f"{where}.images_per_s is {obj['images_per_s']}, but a measured "
                            "rate must be positive")
    if isinstance(obj["step_s"], dict):
        check_record(schema.Stats, obj["step_s"], f"{where}.step_s", source)
        _stats_rule(obj["step_s"], f"{where}.step_s", source, ok=True)


def _results_rule(obj: dict, where: str, source: str) -> None:
    _enum(obj["status"], schema.RUN_STATUSES, "status", source)


_RULES: dict[type, Callable[[dict, str, str], None]] = {
    schema.Benchmark: _measured_rule,
    schema.Repetition: _measured_rule,
    schema.Training: _training_rule,
    schema.Rank: _rank_rule,
    schema.Scaling: _scaling_rule,
    schema.Results: _results_rule,
}


def _check_identity(obj: dict, source: str) -> int:
    """Ours, and a version this code reads — before anything else is looked at."""
    if obj.get("tool") != schema.TOOL:
        hint = (" (it looks like pytest-benchmark's own JSON: pass the results.json beside it)"
                if "machine_info" in obj and "benchmarks" in obj
                else " (it looks like JSON from another program)")
        raise ResultsError(f"{source} is not an mnistbench results file{hint}; pass a "
                           "results.json written by `mnistbench run`")
    version = obj.get("schema_version")
    if not _KINDS[int][1](version):
        raise _fail(source, f"schema_version should be an integer, found {_json_type(version)}")
    if version > schema.SCHEMA_VERSION:
        raise ResultsError(f"{source} was written by a newer mnistbench (schema_version "
                           f"{version}; this one reads up to {schema.SCHEMA_VERSION}): upgrade "
                           "mnistbench to read it")
    if version < 1:
        raise ResultsError(f"{source} claims schema_version {version}, but no mnistbench ever "
                           "wrote a version before 1: the file is damaged or hand-made; re-run "
                           "`mnistbench run`")
    return version


def _upgrade_benchmark(entry: dict) -> dict:
    """A schema-1 benchmark as version 2: its rounds are one repetition."""
    ok = entry.get("status") == "ok"
    entry.setdefault("groups", [entry.get("group")])
    entry.setdefault("repetitions", [{
        "repetition": 0, "status": entry.get("status"), "error": entry.get("error"),
        "stats": entry.get("stats"), "first_call_s": entry.get("first_call_s")}])
    for key, value in (("spread", 0.0 if ok else None), ("unstable", False), ("flops", None),
                       ("gflops", None), ("first_call_s", None)):
        entry.setdefault(key, value)
    if entry.get("noisy") is None:  # version 1 wrote null for a case that did not run
        entry["noisy"] = False
    return entry


def upgrade_v1(obj: dict) -> dict:
    """A schema-1 object read as version 2 (a copy; fields it lacks get their v1 meaning)."""
    obj = copy.deepcopy(obj)
    for entry in obj.get("benchmarks") if isinstance(obj.get("benchmarks"), list) else []:
        if isinstance(entry, dict):
            _upgrade_benchmark(entry)
    for entry in obj.get("training") if isinstance(obj.get("training"), list) else []:
        if isinstance(entry, dict):
            entry.setdefault("name", f"train/{entry.get('model')}/{entry.get('variant')}/"
                                     f"seed{entry.get('seed')}")
    if isinstance(obj.get("dataset"), dict):
        obj["dataset"].setdefault("subset", False)
    obj.setdefault("calibration", None)
    obj["schema_version"] = schema.SCHEMA_VERSION
    obj["upgraded_from"] = 1
    return obj


def validate(obj: object, source: str = "<results>") -> dict:
    """Check `obj` against the schema and return it (a schema-1 file comes back upgraded);
    ResultsError names the bad path."""
    if not isinstance(obj, dict):
        raise ResultsError(f"{source} holds {_json_type(obj)}, not an mnistbench results "
                           "object; pass a results.json written by `mnistbench run`")
    if _check_identity(obj, source) == 1:
        obj = upgrade_v1(obj)
    check_record(schema.Results, obj, "", source)
    return obj
