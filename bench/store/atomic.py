"""Files that are either whole or absent: the one atomic writer every output goes through.

A write goes to a temporary file in the target's directory, is fsynced and renamed over the
target; on any error (Ctrl-C included) the temporary file is removed and the old file stays as
it was. Progress files are JSON lines, appended and fsynced one at a time, so a killed run loses
at most the line in flight.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.errors import ResultsError, UsageError


def _json_safe(obj: object) -> object:
    """Copy of `obj` with NaN/inf turned into null (strict JSON has neither) and tuples as lists."""
    if isinstance(obj, dict):
        return {key: _json_safe(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(value) for value in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, numbers.Integral):  # also numpy integers, which json cannot write
        return int(obj)
    if isinstance(obj, numbers.Real):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj  # anything else is left for json to refuse (a bug in the caller)


def _new_file_mode(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o777
    mask = os.umask(0)  # the only portable way to read the umask is to set it
    os.umask(mask)
    return 0o666 & ~mask


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) so that `path` holds either the old file or the whole new one."""
    _write_atomic(Path(path), lambda f: f.write(text))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` so that `path` holds either the old file or the whole new one."""
    _write_atomic(Path(path), lambda f: f.write(data), binary=True)


def write_json_atomic(path: str | os.PathLike, obj: object) -> None:
    """Write `obj` as JSON so that `path` holds either the old file or the whole new one."""
    def dump(f) -> None:
        json.dump(_json_safe(obj), f, indent=2, allow_nan=False)
        f.write("\n")
    _write_atomic(Path(path), dump)


def write_jsonl_atomic(path: str | os.PathLike, objs: list) -> None:
    """Replace a progress file with these objects, one line each, atomically."""
    def dump(f) -> None:
        for obj in objs:
            f.write(_jsonl_line(obj))
    _write_atomic(Path(path), dump)


def write_texts_atomic(outputs: dict[Path, str]) -> None:
    """Write several text files all or nothing: every temp file first, then one rename each.

    A failure before the renames (a directory in the way, a full disk) leaves no output and no
    temp file behind.
    """
    staged: list[tuple[Path, Path]] = []
    special = [path for path in outputs if _special(path)]
    try:
        for path, text in outputs.items():
            if path.is_dir():  # caught before any rename, so no output is replaced
                raise IsADirectoryError(21, "it is a directory", str(path))
            if path not in special:
                staged.append((_stage(path, lambda f, text=text: f.write(text)), path))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    for path in special:
        _write_in_place(path, lambda f, text=outputs[path]: f.write(text))


def _special(path: Path) -> bool:
    """True for an existing device or pipe (/dev/null, /dev/stdout, a FIFO): written in place,
    never renamed over (a rename would put a regular file where /dev/null was)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _write_in_place(path: Path, dump: Callable, binary: bool = False) -> None:
    with open(path, "wb") if binary else open(path, "w", encoding="utf-8") as f:
        dump(f)


def _write_atomic(path: Path, dump: Callable, binary: bool = False) -> None:
    """Stage `dump(f)` in a temp file beside `path`, then rename it over `path` (a device or
    pipe is written in place)."""
    if _special(path):
        _write_in_place(path, dump, binary)
        return
    tmp = _stage(path, dump, binary)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _stage(path: Path, dump: Callable, binary: bool = False) -> Path:
    """A fsynced temp file in `path`'s directory holding `dump(f)`, with the mode `path` would
    get; on any error (including Ctrl-C) the temp file is removed and the error re-raised."""
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as f:
            dump(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); skipped where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _jsonl_line(obj: object) -> str:
    return json.dumps(_json_safe(obj), allow_nan=False, separators=(",", ":")) + "\n"


def append_jsonl(path: str | os.PathLike, obj: object) -> None:
    """Append one JSON object as one line and fsync: case-by-case progress that survives a kill."""
    line = _jsonl_line(obj)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Objects of a progress file; a torn LAST line (no newline: the writer was killed) is dropped.

    A bad line anywhere else is corruption, not a kill, and raises ResultsError.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ResultsError(f"cannot read progress file {path} ({e.strerror}); "
                           "check the path or start a fresh run") from None
    *complete, tail = data.split(b"\n")  # tail is b"" when the file ends with a newline
    records = []
    for number, raw in enumerate(complete, start=1):
        if raw.strip():
            record = _parse_line(raw)
            if record is None:
                raise ResultsError(f"{path} line {number} is not a JSON object; the progress "
                                   "file is corrupt — delete it to start the run over")
            records.append(record)
    last = _parse_line(tail) if tail.strip() else None
    return records + ([last] if last is not None else [])


def _parse_line(raw: bytes) -> dict | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def check_writable(directory: Path, what: str, fix: str = "choose a writable directory") -> None:
    """Create and remove a probe directory in `directory`, else a UsageError: `what`, then `fix`.

    os.access alone says yes to root, and to places no one can write (/proc, read-only mounts
    seen through some filesystems), so only a real probe tells.
    """
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".mnistbench-probe-", dir=directory))
    except OSError as exc:
        raise UsageError(f"{what}: cannot write to {directory} ({exc.strerror or exc}); "
                         f"{fix}") from None
