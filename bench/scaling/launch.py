"""`mnistbench run --profile scaling`: check everything, then start the ranks as torchrun does.

The workers are started by torch.distributed.launcher's `elastic_launch` (the API torchrun
itself calls), with a c10d rendezvous, `max_restarts=0`, and the same command line a user gives
torchrun: `python -m bench run --profile scaling ...`. Under torchrun those workers run
`bench.scaling.worker` (the same code either way).

Faults, and what is left of them:
- bad input (a world larger than the devices, NCCL on CPU, a malformed endpoint, ...) is
  refused here with one line and exit 2, before anything starts;
- a rendezvous that does not complete within --rdzv-timeout (default: the profile's
  `rdzv_timeout_s`): one line, exit 2, nothing written;
- a rank that dies: torch's elastic agent sees it within its monitor interval and stops the
  others (SIGTERM, then SIGKILL after its grace period); rank 0 saves what it saw, and this
  launcher completes the record of the item in flight with each rank's fate (exit code or
  signal, its error message), marks the items never run as skipped and writes the results and
  report: a recorded failure, exit 0 like any failed case, with one line saying what happened.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from bench.data.sources import load as load_dataset
from bench.errors import UsageError, one_line
from bench.run.options import DEFAULTS, RunOptions, compile_only, given
from bench.scaling import checks, plan, records, worker
from bench.store import rundir
from bench.store.results import new_run_id
from bench.system.device import resolve_device
from bench.timing.profiles import SCALING, get_profile

LAUNCH_OPTIONS = worker.LAUNCHER_OPTIONS + ("backend",)
MONITOR_INTERVAL_S = 0.1  # how often the elastic agent looks at its workers (torchrun's default)


def wanted(opts: RunOptions) -> bool:
    """Is this a scaling run? Launcher options with another profile are refused."""
    profile = opts.profile or DEFAULTS["profile"]
    if profile in SCALING:
        return True
    asked = [f"--{k.replace('_', '-')}" for k in LAUNCH_OPTIONS if getattr(opts, k) is not None]
    if asked:
        verb = "is" if len(asked) == 1 else "are"
        raise UsageError(f"{', '.join(asked)} {verb} for the data-parallel profile; add "
                         f"--profile {next(iter(SCALING))} (profile {profile!r} runs in one "
                         "process)")
    return False


def run(opts: RunOptions, stream: TextIO) -> Path | None:
    """A scaling run: as one of torchrun's workers, or as their launcher."""
    if worker.under_torchrun():
        return worker.main(opts, stream)
    return launch(opts, stream)


def _settings(opts: RunOptions) -> tuple[dict, checks.Launch]:
    """The run's settings and launch, every input checked."""
    if opts.resume:
        raise UsageError("--resume: a scaling run cannot be continued; start a new one")
    settings = {**DEFAULTS, **given(opts)}
    spec = SCALING[get_profile(settings["profile"]).name]
    device = resolve_device(settings["device"]).type
    backend = checks.backend_for(device, opts.backend)
    nproc = opts.nproc_per_node or _default_nproc(device, settings["threads"])
    threads = checks.threads_per_rank(settings["threads"], nproc)
    checks.check_devices(device, nproc, threads, "--nproc-per-node")
    nnodes = opts.nnodes or 1
    endpoint = checks.check_endpoint(opts.rdzv_endpoint, nnodes)
    return settings, checks.Launch(device, backend, nproc, nnodes, threads, endpoint,
                                   opts.rdzv_timeout or spec.rdzv_timeout_s)


def _default_nproc(device: str, threads: int | None) -> int:
    """Every device of this node: its GPUs, or its cores at --threads (default 1) per rank."""
    if device == "cuda":
        import torch

        return torch.cuda.device_count()
    return max(1, checks.usable_cores() // (threads or 1))


def _worker_argv(settings: dict, launch: checks.Launch, out: Path, report: bool) -> list[str]:
    """The command line every rank runs (what a user would give torchrun after -m)."""
    argv = ["-m", "bench", "run", "--profile", settings["profile"], "--device", launch.device,
            "--backend", launch.backend, "--threads", str(launch.threads), "--seed",
            str(settings["seed"]), "--dataset", settings["dataset"], "--out", str(out)]
    for flag, key in (("--data-dir", "data_dir"), ("--only", "only")):
        if settings[key] is not None:
            argv += [flag, settings[key]]
    return argv + ([] if report else ["--no-report"])


def launch(opts: RunOptions, stream: TextIO) -> Path | None:
    settings, launch_ = _settings(opts)
    profile = get_profile(settings["profile"])
    import torch

    plan.items(profile, torch.device(launch_.device), settings["seed"], launch_.world_size,
               launch_.nproc_per_node, compile_only(settings["only"]))  # --only must match
    out = opts.out or Path("reports") / "out" / new_run_id()
    rundir.check_out_dir(out, resume=False)
    load_dataset(settings["dataset"], settings["data_dir"])  # a data problem is exit 2 now
    print(f"mnistbench: starting {launch_.nproc_per_node} rank(s) per node x "
          f"{launch_.nnodes} node(s) through torch.distributed's elastic launch (torchrun's "
          f"API): c10d rendezvous at {launch_.rdzv_endpoint}, {launch_.rdzv_timeout_s} s to "
          "complete", file=stream)
    return _start(launch_, _worker_argv(settings, launch_, out, opts.report), out, stream,
                  opts.report)


def _config(launch_: checks.Launch, log_dir: str):
    """torchrun's settings; the agent's per-rank files (error files, logs) go under `log_dir`
    (left to itself, the agent makes a /tmp/torchelastic_* folder per launch and never
    removes it)."""
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.launcher.api import LaunchConfig

    return LaunchConfig(
        min_nodes=launch_.nnodes, max_nodes=launch_.nnodes,
        logs_specs=DefaultLogsSpecs(log_dir=log_dir),
        nproc_per_node=launch_.nproc_per_node, run_id="mnistbench-scaling",
        rdzv_backend="c10d", rdzv_endpoint=launch_.rdzv_endpoint,
        rdzv_configs={"join_timeout": launch_.rdzv_timeout_s}, max_restarts=0,
        monitor_interval=MONITOR_INTERVAL_S)


def _start(launch_: checks.Launch, argv: list[str], out: Path, stream: TextIO,
           report: bool) -> Path | None:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.rendezvous import RendezvousError, RendezvousTimeoutError
    from torch.distributed.launcher.api import elastic_launch

    os.environ["OMP_NUM_THREADS"] = str(launch_.threads)  # each rank's OpenMP pool
    os.environ["MNISTBENCH_LAUNCHER"] = "mnistbench run (elastic_launch)"
    try:
        with tempfile.TemporaryDirectory(prefix="mnistbench-elastic-") as log_dir:
            elastic_launch(_config(launch_, log_dir), sys.executable)(*argv)
    except ChildFailedError as exc:
        return _after_failure(exc, out, stream, report)
    except SignalException as exc:  # Ctrl-C (or a kill) reached the agent: it stopped the ranks
        if exc.sigval == signal.SIGINT:
            raise KeyboardInterrupt from None  # rank 0 saved what finished (status partial)
        raise
    except RendezvousTimeoutError:
        raise UsageError(f"the rendezvous at {launch_.rdzv_endpoint} did not complete within "
                         f"{launch_.rdzv_timeout_s} s: {launch_.nnodes} nodes were expected; "
                         "start the same command on every node, or check --nnodes and "
                         "--rdzv-endpoint") from None
    except RendezvousError as exc:
        raise UsageError(f"the rendezvous at {launch_.rdzv_endpoint} failed ({one_line(exc)}); "
                         "check --rdzv-endpoint (a host every node reaches, a free port)") from None
    return out / rundir.RESULTS if (out / rundir.RESULTS).exists() else None


def _message(failure) -> str:
    """The error a rank wrote to its torchelastic error file (empty when it wrote none)."""
    message = failure.message
    if isinstance(message, dict):
        message = message.get("message", "")
    if (not isinstance(message, str) or failure.error_file_data.get("errorTraits")
            or message.startswith("To enable traceback")):
        return ""  # the agent's own placeholder for a rank that left no error file
    return message.strip().splitlines()[0] if message.strip() else ""


def _fate(failure) -> str:
    """How one rank ended, as the elastic agent saw it."""
    if failure.exitcode < 0:
        return f"was killed by signal {failure.signal_name()}"
    message = _message(failure)
    return f"exited with code {failure.exitcode}" + (f" ({message})" if message else "")


def _root(failures: dict) -> int:
    """The rank that failed first: a rank killed by a signal other than the launcher's own
    SIGTERM before one that exited, then the earliest, then the lowest rank."""
    def key(rank: int) -> tuple:
        f = failures[rank]
        return (f.exitcode >= 0 or f.exitcode == -signal.SIGTERM, f.timestamp, rank)
    return min(failures, key=key)


def _after_failure(exc, out: Path, stream: TextIO, report: bool) -> Path | None:
    """Some rank failed: complete the run's records with what the agent saw, or say why not."""
    failures = exc.failures
    codes = {f.exitcode for f in failures.values()}
    if 2 in codes and codes <= {2, -signal.SIGTERM}:
        raise SystemExit(2)  # a rank refused its input and said why (one line, above)
    root = _root(failures)
    what = f"rank {root} (pid {failures[root].pid}) {_fate(failures[root])}"
    if not (out / rundir.HEADER).is_file():
        raise UsageError(f"the scaling run did not start: {what}; its own message is above")
    header = rundir.read_header(out)
    with rundir.RunLock(out):
        marker = out / worker.ACTIVE
        active = marker.read_text().strip() if marker.exists() else None
        path = _complete(out, header, failures, what, active, stream, report)
    print(f"mnistbench: {active or 'the run'} failed: {what}; the launcher stopped the other "
          f"ranks. The finished records are kept in {path}", file=stream)
    return path


def _rank_errors(failures: dict, saved: dict | None, size: int, what: str) -> dict[int, str]:
    """Each rank of the item's world: its fate as the agent saw it, with what the rank saw
    itself (rank 0's record: the broken collective); the others were stopped."""
    errors = {r: _fate(f) for r, f in failures.items() if r < size}
    for r in (saved or {}).get("ranks", []):
        if r["error"] and r["rank"] in errors and r["error"] not in errors[r["rank"]]:
            errors[r["rank"]] += f"; it saw: {r['error']}"
    for r in range(size):
        errors.setdefault(r, f"stopped by the launcher after {what.split(' (')[0]} failed")
    return errors


def _complete(out: Path, header: dict, failures: dict, what: str, active: str | None,
              stream: TextIO, report: bool) -> Path:
    """The item in flight failed (each rank's fate), the items never run skipped; then the
    results, summary and report."""
    config = header["config"]
    launch_ = config["launch"]
    profile = get_profile(config["profile"])
    spec = SCALING[profile.name]
    import torch

    items = plan.items(profile, torch.device(launch_["device"]), config["seed"],
                       launch_["world_size"], launch_["nproc_per_node"],
                       compile_only(config["only"]))
    saved = records.saved(out)
    by_name = {i.name: i for i in items}
    if active in by_name:
        item = by_name[active]
        errors = _rank_errors(failures, saved.get(active), item.world_size, what)
        records.save(out, records.failed(item, launch_, profile, spec,
                                         f"{what} during this world size; the launcher "
                                         "(max_restarts 0) stopped the other ranks", errors))
    for item in items:
        if item.name not in saved and item.name != active:
            records.save(out, records.skipped(item, launch_, profile, spec,
                                              f"not run: the launch ended when {what}"))
    (out / worker.ACTIVE).unlink(missing_ok=True)
    return records.finish(out, header, stream, report)
