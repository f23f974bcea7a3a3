"""bench.store.atomic: whole-or-absent files, several files all or nothing, progress lines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.errors import ResultsError, UsageError
from bench.store import atomic


def test_failed_serialisation_keeps_the_old_file(tmp_path):
    path = tmp_path / "results.json"
    atomic.write_json_atomic(path, {"schema_version": 1, "values": [1.5, None]})
    before = path.read_bytes()
    with pytest.raises(TypeError):  # json fails on the object only after writing the list
        atomic.write_json_atomic(path, {"a": list(range(5000)), "z": object()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_new_file_gets_umask_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        atomic.write_json_atomic(tmp_path / "x.json", {"a": 1})
    finally:
        os.umask(mask)
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o644


def test_jsonl_round_trip_and_torn_last_line(tmp_path):
    path = tmp_path / "progress.jsonl"
    for i in range(3):
        atomic.append_jsonl(path, {"name": f"case{i}", "device": "cpu", "value": float("nan")})
    assert [rec["name"] for rec in atomic.read_jsonl(path)] == ["case0", "case1", "case2"]
    assert atomic.read_jsonl(path)[0]["value"] is None
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"name": "case3", "dev')  # killed mid-write
    assert [rec["name"] for rec in atomic.read_jsonl(path)] == ["case0", "case1", "case2"]


def test_jsonl_corruption_before_the_last_line_is_an_error(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text('{"name": "a"}\n{"name": \n{"name": "c"}\n', encoding="utf-8")
    with pytest.raises(ResultsError, match="line 2"):
        atomic.read_jsonl(path)
    with pytest.raises(ResultsError, match="missing.jsonl"):
        atomic.read_jsonl(tmp_path / "missing.jsonl")


def test_several_files_all_or_nothing(tmp_path):
    (tmp_path / "a.html").write_text("old a", encoding="utf-8")
    (tmp_path / "blocker").mkdir()
    with pytest.raises(IsADirectoryError):
        atomic.write_texts_atomic({tmp_path / "a.html": "new a", tmp_path / "blocker": "x"})
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "blocker"]
    atomic.write_texts_atomic({tmp_path / "a.html": "new a", tmp_path / "b.md": "b"})
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == "new a"
    assert (tmp_path / "b.md").read_text(encoding="utf-8") == "b"


def test_bytes_and_text_writers(tmp_path):
    atomic.write_bytes_atomic(tmp_path / "x.bin", b"\x00\x01")
    atomic.write_text_atomic(tmp_path / "x.txt", "caf\u00e9")
    assert (tmp_path / "x.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "x.txt").read_bytes() == "caf\u00e9".encode()


def test_check_writable_refuses_a_place_that_cannot_be_written(tmp_path):
    atomic.check_writable(tmp_path, "--out x")
    assert list(tmp_path.iterdir()) == []  # the probe is gone
    with pytest.raises(UsageError, match=r"^--out x: cannot write to /proc .*; choose a writable"):
        atomic.check_writable(Path("/proc"), "--out x")


def test_a_pipe_or_device_is_written_in_place_never_replaced(tmp_path):
    """`compare -o /dev/null` once renamed a regular file over /dev/null, breaking every later
    use of it on the machine; a FIFO stands in for the device here (no root needed)."""
    import stat
    import threading

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic.write_texts_atomic({fifo: "<html>", tmp_path / "summary.md": "# s"})
    reader.join(timeout=10)
    assert got == [b"<html>"] and stat.S_ISFIFO(fifo.stat().st_mode)
    assert (tmp_path / "summary.md").read_text() == "# s"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic.write_json_atomic(fifo, {"a": 1})
    reader.join(timeout=10)
    assert json.loads(got[1]) == {"a": 1}
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    if Path("/dev/null").exists():
        atomic.write_text_atomic(Path("/dev/null"), "x")
        assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)
