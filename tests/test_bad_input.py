"""Every bad input to the `mnistbench` CLI is refused cleanly, before anything is written.

For each case of the corpus: exit code 2; one or two lines on stderr, the first starting
"mnistbench: error:", saying what was wrong and what to do, never a traceback; nothing on stdout;
and no file created, changed or removed anywhere in the case's sandbox (its working directory,
--out's parent, the report's directory) or at the outside path it names. Cases run in-process
through `bench.cli.main` (fast); a few also run as real subprocesses, as a user would.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from bench import cli
from bench.data.sources import ASSETS
from bench.store import rundir
from tests.conftest import run_cli
from tests.report_samples import make_results

PREFIX = "mnistbench: error: "
# "What to do": every message names an action, what is needed, or points at --help.
ADVICE = re.compile(r"e\.g\.|`mnistbench [a-z-]+|\b(choose|pass|use|give|re-run|run without|"
                    r"check|fix|replace|upgrade|create|drop|wait|delete|make|point|start|try|"
                    r"needs)\b", re.I)
SUBSET = ASSETS / "mnist-subset"
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")


class Sandbox:
    """A case's private tree: `cwd/` is the process's working directory, inputs go anywhere."""

    def __init__(self, root: Path):
        self.root, self.cwd = root, root / "cwd"
        self.cwd.mkdir()
        self.held: list[rundir.RunLock] = []

    def path(self, rel: str) -> str:
        return str(self.root / rel)

    def write(self, rel: str, content: str | bytes) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def results(self, rel: str = "in/results.json", edit: Callable | None = None,
                **kwargs) -> str:
        """A valid results file, or one made invalid by `edit(doc) -> doc`."""
        doc = make_results(**kwargs)
        return self.write(rel, json.dumps(edit(doc) if edit else doc))

    def run_dir(self, rel: str, finished: bool) -> str:
        """A run directory as `mnistbench run` leaves it: finished, or killed mid-way."""
        requested = {"profile": "smoke", "device": "cpu", "dataset": "mnist", "seed": 0,
                     "threads": None, "data_dir": None, "only": None}
        header = {"schema_version": 1, "tool": "mnistbench", "status": "partial",
                  "config": {**requested, "threads": 2, "requested": requested}}
        self.write(f"{rel}/{rundir.HEADER}", json.dumps(header))
        self.write(f"{rel}/{rundir.PROGRESS}", "")
        if finished:
            self.results(f"{rel}/{rundir.RESULTS}")
            self.write(f"{rel}/report.html", "<html>a finished run</html>")
        return self.path(rel)

    def locked(self, rel: str) -> str:
        out = self.run_dir(rel, finished=False)
        self.held.append(rundir.RunLock(Path(out)).__enter__())  # released by the fixture
        return out

    def data_dir(self, rel: str, stem: str = "", breaker: Callable[[bytes], bytes] | None = None
                 ) -> str:
        """A copy of the bundled subset with `stem`'s gz file replaced by `breaker(gz bytes)`."""
        shutil.copytree(SUBSET, self.root / rel)
        if breaker is not None:
            target = self.root / rel / f"{stem}.gz"
            target.write_bytes(breaker(target.read_bytes()))
        return self.path(rel)


def _regz(edit: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    return lambda gz: gzip.compress(edit(gzip.decompress(gz)), mtime=0)


def _flip_last_label(raw: bytes) -> bytes:  # still a valid label (0..9), no longer the subset
    return raw[:-1] + bytes([(raw[-1] + 1) % 10])


def _drop_last_label(raw: bytes) -> bytes:  # a valid file with one label fewer than images
    count = int.from_bytes(raw[4:8], "big")
    return raw[:4] + (count - 1).to_bytes(4, "big") + raw[8:-1]


def _drop(key: str) -> Callable[[dict], dict]:
    return lambda doc: {k: v for k, v in doc.items() if k != key}


def _timings(value: float) -> Callable[[dict], dict]:
    """Every duration of the first (ok) case set to `value`: impossible for a real clock."""
    def edit(doc: dict) -> dict:
        stats = doc["benchmarks"][0]["stats"]
        stats.update({k: value for k in ("min", "max", "median", "mean", "q1", "q3")},
                     samples=[value] * stats["rounds"], stddev=0.0, iqr=0.0)
        return doc
    return edit


def _put(key: str, value: object) -> Callable[[dict], dict]:
    return lambda doc: {**doc, key: value}


PYTEST_BENCHMARK_JSON = json.dumps({"machine_info": {"node": "x"}, "commit_info": {},
                                    "benchmarks": [], "datetime": "2026-01-01T00:00:00",
                                    "version": "5.1.0"})
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
ROOT_USER = pytest.mark.skipif(os.geteuid() == 0, reason="chmod does not stop root")
NO_PROC = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
NO_PASSWD = pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="needs /etc/passwd")


@dataclass(frozen=True)
class Bad:
    id: str
    argv: Callable[[Sandbox], list[str]]
    says: str  # what was wrong: a fragment of the message (case-insensitive)
    env: dict = field(default_factory=dict)
    outside: tuple[str, ...] = ()  # paths outside the sandbox that must not appear
    marks: tuple = ()


def _unwritable(sb: Sandbox) -> list[str]:
    locked = sb.root / "readonly"
    locked.mkdir()
    locked.chmod(0o500)
    return ["run", "--out", str(locked / "run")]


def _corrupt_progress(sb: Sandbox) -> list[str]:
    out = sb.run_dir("old", finished=False)
    sb.write("old/progress.jsonl", "garbage\n{}\n")  # a bad line before the last: not a kill
    return ["run", "--resume", "--out", out]


def _missing_file(sb: Sandbox) -> list[str]:
    data = sb.data_dir("data")
    os.remove(f"{data}/{IDX_FILES[2]}.gz")
    return ["data", "--data-dir", data]


def _default_out_blocked(sb: Sandbox) -> list[str]:
    sb.write("cwd/reports", "x")  # the default --out is reports/out/<run-id> under the cwd
    # The subset, whose SUBSET note would come first on stderr were the data read before --out
    # is checked: refused means refused before any work, the data's included.
    return ["run", "--device", "cpu", "--data-dir", str(SUBSET)]


def _run(*args: str) -> Callable[[Sandbox], list[str]]:
    return lambda sb: ["run", *args]


def _data(sb: Sandbox, stem: str, breaker) -> str:
    return sb.data_dir("data", stem, breaker)


def _truncate(gz: bytes) -> bytes:  # a download or copy that stopped half-way
    return gz[: len(gz) // 2]


WRONG_MAGIC = _regz(lambda raw: b"\x00\x00\x08\x02" + raw[4:])

CORPUS = [
    # --- arguments (argparse) -------------------------------------------------------------
    Bad("no-subcommand", lambda sb: [], "required: command"),
    Bad("unknown-subcommand", lambda sb: ["bench"], "invalid choice: 'bench'"),
    Bad("run-unknown-option", _run("--fast"), "unrecognized arguments: --fast"),
    Bad("run-option-without-value", _run("--profile"), "expected one argument"),
    Bad("run-unknown-profile", _run("--profile", "huge"), "invalid choice: 'huge'"),
    Bad("run-unknown-device", _run("--device", "tpu"), "invalid choice: 'tpu'"),
    Bad("run-unknown-dataset", _run("--dataset", "cifar10"), "invalid choice: 'cifar10'"),
    Bad("run-threads-0", _run("--threads", "0"), "--threads: expected a positive integer"),
    Bad("run-threads-negative", _run("--threads", "-1"), "--threads: expected a positive"),
    Bad("run-threads-abc", _run("--threads", "abc"), "--threads: expected a positive integer"),
    Bad("run-seed-negative", _run("--seed", "-1"), "--seed: expected a non-negative integer"),
    Bad("run-seed-abc", _run("--seed", "abc"), "--seed: expected a non-negative integer"),
    Bad("run-seed-too-big", _run("--seed", str(2**63)), "--seed: expected a non-negative"),
    Bad("run-out-empty", _run("--out", ""), "--out: expected a path, got an empty string"),
    Bad("data-dir-empty", lambda sb: ["data", "--data-dir", ""], "expected a path"),
    Bad("data-unknown-dataset", lambda sb: ["data", "--dataset", "cifar10"], "invalid choice"),
    Bad("env-unknown-device", lambda sb: ["env", "--device", "tpu"], "invalid choice: 'tpu'"),
    Bad("report-without-file", lambda sb: ["report"], "required: results"),
    Bad("compare-without-files", lambda sb: ["compare"], "required: results"),
    Bad("compare-one-file", lambda sb: ["compare", sb.results()], "at least two results files"),
    # --- run: device and --out --------------------------------------------------------------
    Bad("run-cuda-without-gpu", _run("--device", "cuda"), "no CUDA GPU", marks=(NO_GPU,)),
    Bad("env-cuda-without-gpu", lambda sb: ["env", "--device", "cuda"], "no CUDA GPU",
        marks=(NO_GPU,)),
    Bad("run-out-is-a-file", lambda sb: ["run", "--out", sb.write("in/afile", "x")],
        "is a file"),
    Bad("run-out-under-a-file", lambda sb: ["run", "--out", sb.write("in/afile", "x") + "/run"],
        "is a file"),
    Bad("run-out-under-etc-passwd", _run("--out", "/etc/passwd/x"), "/etc/passwd is a file",
        outside=("/etc/passwd/x",), marks=(NO_PASSWD,)),
    Bad("run-out-under-proc", _run("--out", "/proc/mnistbench-x/run"), "cannot write to /proc",
        outside=("/proc/mnistbench-x",), marks=(NO_PROC,)),
    Bad("run-out-unwritable-dir", _unwritable, "cannot write to", marks=(ROOT_USER,)),
    Bad("run-out-finished-run", lambda sb: ["run", "--out", sb.run_dir("old", True)],
        "already holds a finished run"),
    Bad("run-out-unfinished-run", lambda sb: ["run", "--out", sb.run_dir("old", False)],
        "holds an unfinished run"),
    Bad("run-out-non-run-dir", lambda sb: ["run", "--out", str(Path(sb.write("d/x.txt", "x")
                                                                    ).parent)],
        "is not empty and holds no mnistbench run"),
    Bad("run-out-locked", lambda sb: ["run", "--out", sb.locked("busy")], "in use"),
    # --- run: --resume ----------------------------------------------------------------------
    Bad("resume-without-out", _run("--resume"), "--resume needs --out"),
    Bad("resume-empty-dir", lambda sb: ["run", "--resume", "--out", sb.path("cwd")],
        "holds no mnistbench run"),
    Bad("resume-missing-dir", lambda sb: ["run", "--resume", "--out", sb.path("nope")],
        "holds no mnistbench run"),
    Bad("resume-finished-run", lambda sb: ["run", "--resume", "--out", sb.run_dir("old", True)],
        "already finished"),
    Bad("resume-damaged-header",
        lambda sb: ["run", "--resume", "--out", str(Path(sb.write("old/run.json", '{"conf'))
                                                    .parent)], "is unreadable or damaged"),
    Bad("resume-foreign-header",
        lambda sb: ["run", "--resume", "--out", str(Path(sb.write("old/run.json", "[1]"))
                                                    .parent)], "not an mnistbench run header"),
    Bad("resume-corrupt-progress", _corrupt_progress, "progress.jsonl line 1 is not a JSON"),
    Bad("resume-conflicting-profile",
        lambda sb: ["run", "--resume", "--out", sb.run_dir("old", False), "--profile", "full"],
        "used --profile 'smoke', not 'full'"),
    Bad("resume-locked", lambda sb: ["run", "--resume", "--out", sb.locked("busy")], "in use"),
    # --- run: case selection and data -------------------------------------------------------
    Bad("run-only-invalid-regex", _run("--only", "rnn/(loop"), "not a valid regular expression"),
    Bad("run-only-matches-nothing", _run("--profile", "smoke", "--device", "cpu", "--only",
                                         "^no-such-case$"), "matches no case"),
    Bad("run-data-dir-missing", _run("--device", "cpu", "--data-dir", "/nonexistent-mnist"),
        "does not exist", outside=("/nonexistent-mnist",)),
    Bad("run-data-dir-is-a-file", lambda sb: ["run", "--device", "cpu", "--data-dir",
                                              sb.write("in/afile", "x")], "is a file"),
    Bad("run-data-truncated-gz", lambda sb: ["run", "--device", "cpu", "--out", sb.path("new"),
                                             "--data-dir", _data(sb, IDX_FILES[0], _truncate)],
        "corrupted gzip data"),
    Bad("run-data-wrong-magic", lambda sb: ["run", "--device", "cpu", "--data-dir",
                                            _data(sb, IDX_FILES[2], WRONG_MAGIC)],
        "bad magic number"),
    Bad("run-data-of-another-dataset", _run("--device", "cpu", "--dataset", "fashion-mnist",
                                            "--data-dir", str(SUBSET)), "not Fashion-MNIST"),
    Bad("run-default-out-blocked", _default_out_blocked, "reports is a file"),
    # --- data -------------------------------------------------------------------------------
    Bad("data-missing-dir-verify", lambda sb: ["data", "--data-dir", "/nonexistent-mnist",
                                               "--verify"], "does not exist",
        outside=("/nonexistent-mnist",)),
    Bad("data-dir-is-a-file", lambda sb: ["data", "--data-dir", sb.write("in/afile", "x")],
        "is a file"),
    Bad("data-truncated-gz", lambda sb: ["data", "--data-dir", _data(sb, IDX_FILES[1], _truncate)],
        "corrupted gzip data"),
    Bad("data-wrong-magic", lambda sb: ["data", "--data-dir", _data(sb, IDX_FILES[0],
                                                                     WRONG_MAGIC)],
        "bad magic number"),
    Bad("data-not-gzip", lambda sb: ["data", "--data-dir", _data(sb, IDX_FILES[3],
                                                                  lambda gz: b"PK\x03\x04zip")],
        "is named .gz but is not gzip data"),
    Bad("data-label-out-of-range", lambda sb: ["data", "--data-dir", _data(
        sb, IDX_FILES[1], _regz(lambda raw: raw[:-1] + b"\x2a"))], "outside 0..9"),
    Bad("data-count-mismatch", lambda sb: ["data", "--data-dir", _data(
        sb, IDX_FILES[3], _regz(_drop_last_label))], "images but"),
    Bad("data-dir-missing-a-file", _missing_file, "is missing t10k-images-idx3-ubyte"),
    Bad("data-verify-modified-files",
        lambda sb: ["data", "--verify", "--data-dir",
                    _data(sb, IDX_FILES[3], _regz(_flip_last_label))], "checksum mismatch"),
    Bad("data-env-missing", lambda sb: ["data"], "does not exist",
        env={"MNISTBENCH_DATA": "/nonexistent-mnist"}, outside=("/nonexistent-mnist",)),
    # --- the test hooks ---------------------------------------------------------------------
    *(Bad(f"run-slow-cases-{i}", lambda sb: ["run", "--device", "cpu", "--profile", "smoke",
                                              "--out", sb.path("cwd/new")],
          "MNISTBENCH_SLOW_CASES", env={"MNISTBENCH_SLOW_CASES": value})
      for i, value in enumerate(["rnn/loop/", "rnn/=0.5", "(=1.3", "rnn/=fast"])),
    # --- report: the results file -----------------------------------------------------------
    Bad("report-missing-file", lambda sb: ["report", sb.path("in/nope.json")], "no such file"),
    Bad("report-a-directory", lambda sb: ["report", sb.path("cwd")], "is a directory"),
    Bad("report-a-run-directory", lambda sb: ["report", sb.run_dir("old", True)],
        "try " + "{root}/old/results.json"),
    Bad("report-empty-file", lambda sb: ["report", sb.write("in/r.json", "")], "is empty"),
    Bad("report-truncated-json",
        lambda sb: ["report", sb.write("in/r.json", Path(sb.results()).read_text()[:500])],
        "is truncated JSON"),
    Bad("report-binary-bytes", lambda sb: ["report", sb.write("in/r.json", b"\x89PNG\r\n\xff")],
        "is not a JSON text file"),
    Bad("report-not-json", lambda sb: ["report", sb.write("in/r.json", "name,median\nloop,1\n")],
        "is not valid JSON"),
    Bad("report-nan", lambda sb: ["report", sb.write("in/r.json", '{"x": NaN}')],
        "NaN is not valid JSON"),
    Bad("report-deeply-nested", lambda sb: ["report", sb.write("in/r.json", "[" * 100_000)],
        "json"),
    Bad("report-pytest-benchmark-json",
        lambda sb: ["report", sb.write("in/pb.json", PYTEST_BENCHMARK_JSON)],
        "looks like pytest-benchmark's own JSON"),
    Bad("report-foreign-json", lambda sb: ["report", sb.write("in/r.json", '{"foo": 1}')],
        "is not an mnistbench results file"),
    Bad("report-json-array", lambda sb: ["report", sb.write("in/r.json", "[1, 2]")],
        "holds a list, not an mnistbench results object"),
    Bad("report-newer-schema", lambda sb: ["report", sb.results(edit=_put("schema_version", 3))],
        "written by a newer mnistbench"),
    Bad("report-schema-0", lambda sb: ["report", sb.results(edit=_put("schema_version", 0))],
        "claims schema_version 0"),
    Bad("report-missing-key", lambda sb: ["report", sb.results(edit=_drop("machine"))],
        "machine is missing"),
    Bad("report-wrong-type", lambda sb: ["report", sb.results(edit=_put("benchmarks", {}))],
        "benchmarks should be a list"),
    Bad("report-zero-durations", lambda sb: ["report", sb.results(edit=_timings(0.0))],
        "benchmarks[0].stats"),
    Bad("report-negative-durations", lambda sb: ["report", sb.results(edit=_timings(-1e-3))],
        "benchmarks[0].stats"),
    # --- report / compare: the output path --------------------------------------------------
    Bad("report-o-missing-dir", lambda sb: ["report", sb.results(), "-o", sb.path("no/r.html")],
        "does not exist"),
    Bad("report-o-under-a-file",
        lambda sb: ["report", sb.results(), "-o", sb.write("in/afile", "x") + "/r.html"],
        "is a file"),
    Bad("report-o-is-the-input", lambda sb: ["report", sb.results(), "-o", sb.results()],
        "would be overwritten"),
    Bad("report-o-is-a-directory", lambda sb: ["report", sb.results(), "-o", sb.path("cwd")],
        "is a directory"),
    Bad("report-o-under-proc",
        lambda sb: ["report", sb.results(), "-o", "/proc/mnistbench-x.html"], "cannot write",
        outside=("/proc/mnistbench-x.html",), marks=(NO_PROC,)),
    Bad("compare-missing-file", lambda sb: ["compare", sb.results(), sb.path("in/nope.json")],
        "no such file"),
    Bad("compare-truncated-json",
        lambda sb: ["compare", sb.results(), sb.write("in/b.json", '{"tool": "mnistbench", ')],
        "is truncated JSON"),
    Bad("compare-pytest-benchmark-json",
        lambda sb: ["compare", sb.results(), sb.write("in/pb.json", PYTEST_BENCHMARK_JSON)],
        "looks like pytest-benchmark's own JSON"),
    Bad("compare-newer-schema",
        lambda sb: ["compare", sb.results(), sb.results("in/b.json", _put("schema_version", 9))],
        "written by a newer mnistbench"),
    Bad("compare-o-under-a-file",
        lambda sb: ["compare", sb.results(), sb.results("in/b.json"), "-o",
                    sb.write("in/afile", "x") + "/c.html"], "is a file"),
    Bad("compare-o-is-an-input",
        lambda sb: ["compare", sb.results(), sb.results("in/b.json"), "-o", sb.path("in/b.json")],
        "would be overwritten"),
    Bad("compare-o-missing-dir",
        lambda sb: ["compare", sb.results(), sb.results("in/b.json"), "-o",
                    sb.path("no/c.html")], "does not exist"),
]
# Real processes: argparse (no torch import), `run` (torch), report and data errors.
SUBPROCESS = ("run-threads-abc", "run-out-is-a-file", "report-truncated-json",
              "data-truncated-gz", "compare-one-file")


def _tree(root: Path) -> dict[str, tuple]:
    """Every entry under `root`: files by size, mtime and content, so any write shows."""
    tree = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_dir() and not path.is_symlink():
            tree[rel] = ("dir",)
        else:
            stat = path.lstat()
            tree[rel] = ("file", stat.st_size, stat.st_mtime_ns,
                         hashlib.sha256(path.read_bytes()).hexdigest())
    return tree


@pytest.fixture
def sandbox(tmp_path):
    sb = Sandbox(tmp_path)
    yield sb
    for lock in sb.held:
        lock.__exit__(None, None, None)
    if (tmp_path / "readonly").exists():
        (tmp_path / "readonly").chmod(0o700)


def assert_refused(case: Bad, sb: Sandbox, code: int, out: str, err: str) -> None:
    lines = err.strip().splitlines()
    shown = f"exit {code}\nstdout: {out!r}\nstderr: {err}"
    assert code == 2, shown
    assert "Traceback" not in err, shown
    assert 1 <= len(lines) <= 2 and lines[0].startswith(PREFIX), shown
    assert case.says.format(root=sb.root).lower() in err.lower(), shown
    assert ADVICE.search(err[len(PREFIX):]), f"no advice on what to do: {err}"
    assert out == "", f"stdout of a refused command: {out!r}"


def _prepare(case: Bad, sb: Sandbox) -> tuple[list[str], dict]:
    argv = case.argv(sb)
    for path in case.outside:
        assert not Path(path).exists(), f"{path} exists before the case ran"
    return argv, _tree(sb.root)


def _no_leftovers(case: Bad, sb: Sandbox, before: dict) -> None:
    assert _tree(sb.root) == before, "files were created, changed or removed"
    for path in case.outside:
        assert not Path(path).exists(), f"{path} was created"


@pytest.fixture
def no_benchmark(monkeypatch):
    """A bad input that got as far as running cases fails loudly (and never runs them)."""
    from bench.run import runner

    def refuse(*args, **kwargs):
        raise AssertionError("a bad input reached the benchmark run")

    monkeypatch.setattr(runner, "_execute", refuse)


def _params(ids=None):
    return [pytest.param(c, id=c.id, marks=c.marks) for c in CORPUS if ids is None or c.id in ids]


@pytest.mark.parametrize("case", _params())
def test_refused_in_process(case, sandbox, capsys, monkeypatch, no_benchmark):
    monkeypatch.chdir(sandbox.cwd)
    monkeypatch.delenv("MNISTBENCH_DATA", raising=False)
    monkeypatch.setenv("MNISTBENCH_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", sandbox.path("cache"))
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    argv, before = _prepare(case, sandbox)
    capsys.readouterr()
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert_refused(case, sandbox, code, captured.out, captured.err)
    _no_leftovers(case, sandbox, before)


@pytest.mark.parametrize("case", _params(SUBPROCESS))
def test_refused_as_a_process(case, sandbox):
    argv, before = _prepare(case, sandbox)
    env = {"XDG_CACHE_HOME": sandbox.path("cache"), "MNISTBENCH_DATA": "", **case.env}
    proc = run_cli(*argv, env=env, cwd=sandbox.cwd, timeout=120)
    assert_refused(case, sandbox, proc.returncode, proc.stdout, proc.stderr)
    _no_leftovers(case, sandbox, before)


def test_the_base_results_file_is_valid(sandbox):
    """The mutated files above are refused for their mutation, not for a bad base."""
    from bench.store import results

    doc = results.load(sandbox.results())
    assert doc["status"] == "complete" and doc["benchmarks"][0]["status"] == "ok"
    assert results.load(Path(sandbox.run_dir("old", True)) / rundir.RESULTS)


@pytest.mark.parametrize("resume", [[], ["--resume"]], ids=["new", "resume"])
def test_a_finished_run_is_untouched_byte_for_byte(resume, sandbox, capsys, no_benchmark):
    out = Path(sandbox.run_dir("old", True))
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert cli.main(["run", *resume, "--out", str(out)]) == 2
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before
