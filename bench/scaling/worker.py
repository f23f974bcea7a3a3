"""One rank of a scaling run, as torchrun (or `mnistbench run`, through torchrun's API) starts it.

    torchrun --nnodes M --nproc-per-node N --rdzv-backend c10d --rdzv-endpoint HOST:PORT \\
        -m bench run --profile scaling [--device cuda] [--threads T] [--out DIR]

Every rank checks its inputs, joins the default process group (gloo or NCCL, the collective
timeout of the profile's ScalingSpec) and a gloo "control" group, loads the data onto its
device, and then walks the plan in lockstep: before each item all ranks meet at a control
barrier; ranks 0 .. W-1 train the item with DDP on their own process group, the others wait
(a blocking barrier, no CPU). Rank 0 alone writes: the run directory, each finished record, the
results; it marks the item in flight (`.active`) so the launcher can name it if a rank dies.
"""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import torch
import torch.distributed as dist

from bench.data.sources import Dataset
from bench.data.sources import load as load_dataset
from bench.data.tensors import Tensors, to_tensors
from bench.errors import UsageError, one_line
from bench.faults import injected_failure, kill_point
from bench.run.options import DEFAULTS, RunOptions, compile_only, given
from bench.run.progress import Progress
from bench.scaling import checks, ddp, plan, records
from bench.store import atomic, results, rundir
from bench.system.device import resolve_device, set_seed, set_threads
from bench.timing.profiles import SCALING, Profile, ScalingSpec, get_profile
from bench.training.runs import build_model, train_config

ACTIVE = ".active"  # in the run directory: the item in flight (rank 0 writes, the launcher reads)
# Ranks outside the world size being measured wait this long at the control barrier: as long
# as any item may take. A rank that dies is seen by the launcher at once; this only bounds a
# rank that hangs (or a node that vanishes) while others wait.
IDLE_TIMEOUT = timedelta(hours=12)
LAUNCHER_OPTIONS = ("nproc_per_node", "nnodes", "rdzv_endpoint", "rdzv_timeout")


class Stopped(Exception):
    """The launcher stopped this rank (SIGTERM): another rank failed, or the run was stopped."""


def under_torchrun() -> bool:
    """Started by torchrun / torch.distributed's elastic agent (or a launcher that sets the same
    environment)?"""
    keys = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    return "TORCHELASTIC_RUN_ID" in os.environ or all(k in os.environ for k in keys)


@dataclass(frozen=True)
class World:
    """This process in the launch, from torchrun's environment."""

    rank: int
    size: int
    local_rank: int
    local_size: int
    node: int

    @classmethod
    def from_env(cls) -> World:
        env = os.environ
        local_size = int(env.get("LOCAL_WORLD_SIZE", env["WORLD_SIZE"]))
        rank = int(env["RANK"])
        return cls(rank, int(env["WORLD_SIZE"]), int(env["LOCAL_RANK"]), local_size,
                   int(env.get("GROUP_RANK", rank // local_size)))


@dataclass
class Context:
    world: World
    profile: Profile
    spec: ScalingSpec
    settings: dict
    device: torch.device
    items: list[plan.Item]
    stream: TextIO
    report: bool
    out: Path | None = None  # rank 0 only
    header: dict = field(default_factory=dict)  # rank 0 only
    launch: dict = field(default_factory=dict)  # every rank: backend, ranks, ...
    tensors: Tensors | None = None
    dataset: Dataset | None = None
    groups: dict = field(default_factory=dict)  # world size -> process group (None: not in it)
    control: object = None
    baselines: dict[str, float] = field(default_factory=dict)  # model key -> images/s at ws1


def _on_sigterm(signum: int, frame: object) -> None:
    raise Stopped(f"stopped by the launcher ({signal.Signals(signum).name}): another rank "
                  "failed or the run was stopped")


def _prepare(opts: RunOptions, world: World, stream: TextIO) -> Context:
    """Every check that needs no other rank; a UsageError here ends this rank with exit 2."""
    asked = [f"--{k.replace('_', '-')}" for k in LAUNCHER_OPTIONS if getattr(opts, k) is not None]
    if asked:
        raise UsageError(f"{', '.join(asked)}: torchrun launched this run, so give the world's "
                         "shape to torchrun (--nnodes, --nproc-per-node, --rdzv-endpoint)")
    if opts.resume:
        raise UsageError("--resume: a scaling run cannot be continued; start a new one")
    settings = {**DEFAULTS, **given(opts)}
    profile = get_profile(settings["profile"])
    device_type = resolve_device(settings["device"]).type
    backend = checks.backend_for(device_type, opts.backend)
    threads = checks.threads_per_rank(settings["threads"], world.local_size)
    checks.check_devices(device_type, world.local_size, threads, "--nproc-per-node")
    device = torch.device("cuda", world.local_rank) if device_type == "cuda" else torch.device(
        "cpu")
    items = plan.items(profile, device, settings["seed"], world.size, world.local_size,
                       compile_only(settings["only"]))
    ctx = Context(world, profile, SCALING[profile.name], settings, device, items, stream,
                  opts.report)
    ctx.launch = {"backend": backend, "device": device_type, "threads": set_threads(threads),
                  "world_size": world.size, "nproc_per_node": world.local_size}
    if world.rank == 0:
        ctx.out = opts.out or Path("reports") / "out" / results.new_run_id()
        rundir.check_out_dir(ctx.out, resume=False)
    return ctx


def _device_label(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        return f"cuda:{device.index} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({threads} thread{'s' if threads != 1 else ''})"


def _join(ctx: Context) -> None:
    """The default group (the run's backend) and the control group (gloo, long timeout)."""
    if ctx.device.type == "cuda":
        torch.cuda.set_device(ctx.device)
    dist.init_process_group(ctx.launch["backend"],
                            timeout=timedelta(seconds=ctx.spec.collective_timeout_s))
    ctx.control = dist.new_group(backend="gloo", timeout=IDLE_TIMEOUT)


def _agree(ctx: Context, error: str | None) -> None:
    """Every rank learns every rank's setup error; any one stops them all (exit 2, rank 0 says
    why, naming the rank)."""
    errors = [None] * ctx.world.size
    dist.all_gather_object(errors, (socket.gethostname(), error), group=ctx.control)
    bad = [(rank, host, e) for rank, (host, e) in enumerate(errors) if e]
    if not bad:
        return
    if ctx.world.rank != 0:
        raise SystemExit(2)
    rank, host, text = bad[0]
    raise UsageError(f"rank {rank} on {host}: {text}")


def _load(ctx: Context) -> None:
    """The data, resident on this rank's device; rank 0 prints the data notes."""
    error = None
    try:
        ctx.dataset = load_dataset(ctx.settings["dataset"], ctx.settings["data_dir"])
        ctx.tensors = to_tensors(ctx.dataset, ctx.device)
    except UsageError as exc:
        error = str(exc)
    _agree(ctx, error)
    if ctx.world.rank == 0:
        for note in ctx.dataset.notes:
            print(f"mnistbench: {note}", file=ctx.stream)


def _gather_ranks(ctx: Context) -> None:
    me = {"rank": ctx.world.rank, "local_rank": ctx.world.local_rank, "node": ctx.world.node,
          "host": socket.gethostname(), "pid": os.getpid(),
          "device": _device_label(ctx.device, ctx.launch["threads"])}
    ranks = [None] * ctx.world.size
    dist.all_gather_object(ranks, me, group=ctx.control)
    ctx.launch.update(ranks=ranks, nnodes=len({r["node"] for r in ranks}),
                      world_sizes=sorted({i.world_size for i in ctx.items}),
                      lr_rule=plan.LR_RULE, collective_timeout_s=ctx.spec.collective_timeout_s,
                      launcher=os.environ.get("MNISTBENCH_LAUNCHER", "torchrun"))


def _open_run(ctx: Context, opts: RunOptions) -> rundir.RunLock | None:
    """Rank 0: the run directory, its lock and header."""
    if ctx.world.rank != 0:
        return None
    from bench.run.runner import write_header

    ctx.out.mkdir(parents=True, exist_ok=True)
    lock = rundir.RunLock(ctx.out).__enter__()
    ctx.header = write_header(ctx.out, opts, ctx.settings, ctx.profile, ctx.device,
                              ctx.launch["threads"], ctx.dataset, {"launch": ctx.launch})
    records.write_results(ctx.out, ctx.header, complete=False)
    launch = ctx.launch
    print(f"mnistbench: scaling run in {ctx.out}: {launch['world_size']} ranks on "
          f"{launch['nnodes']} node(s), {launch['backend']} on {launch['device']}, world sizes "
          f"{', '.join(map(str, launch['world_sizes']))}", file=ctx.stream)
    return lock


def _make_groups(ctx: Context) -> None:
    """One process group per world size (ranks 0 .. W-1); every rank creates every group."""
    timeout = timedelta(seconds=ctx.spec.collective_timeout_s)
    for size in ctx.launch["world_sizes"]:
        ctx.groups[size] = dist.new_group(list(range(size)), backend=ctx.launch["backend"],
                                          timeout=timeout)


def _measure(ctx: Context, item: plan.Item, progress: Progress | None):
    """This rank's part of one item: the timed window, then the time-to-target run."""
    member = ddp.Member(ctx.world.rank, item.world_size, ctx.groups[item.world_size], ctx.device)
    config = train_config(item.case, ctx.profile)
    set_seed(item.case.seed)  # the same initial weights on every rank (DDP broadcasts them too)
    window = ddp.timed_window(build_model(item.case), ctx.tensors, config, member, ctx.spec)
    kill_point(item.name, ctx.world.rank)
    set_seed(item.case.seed)
    run = ddp.TargetRun(build_model(item.case), ctx.tensors, config, member,
                        progress.status if progress else lambda text: None)
    return window, run.run(item.name, item.case.spec.model, item.case.spec.variant)


def _record(ctx: Context, item: plan.Item, window, training) -> None:
    """Rank 0: the item's record saved, results.json rewritten (partial)."""
    baseline = ctx.baselines.get(item.model_key)
    record = records.ok(item, ctx.launch, ctx.profile, ctx.spec, window, training, baseline)
    if item.world_size == 1:
        ctx.baselines[item.model_key] = record.images_per_s
    records.save(ctx.out, record)
    records.write_results(ctx.out, ctx.header, complete=False)
    eff = "" if record.efficiency is None else f", efficiency {record.efficiency:.2f}"
    ttt = training.time_to_target_s
    print(f"mnistbench: {item.name}: {record.images_per_s:.0f} images/s{eff}, all-reduce in "
          f"flight {record.comm_share:.0%} of a step ({record.exposed_comm_share:.0%} exposed); "
          f"test acc {training.curve[-1].test_acc:.2%}, "
          + ("target not reached" if ttt is None else
             f"{training.target_acc:.0%} after {ttt:.1f} s"), file=ctx.stream)


def _lost(ctx: Context, index: int, exc: BaseException) -> None:
    """Rank 0, the run breaking off at item `index`: its failure and the items never run are
    saved, results.json rewritten; SIGTERM is ignored meanwhile (the launcher waits)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    item, error = ctx.items[index], one_line(exc)
    records.save(ctx.out, records.failed(item, ctx.launch, ctx.profile, ctx.spec,
                                         f"rank 0 saw: {error}", {0: error}))
    for later in ctx.items[index + 1:]:
        records.save(ctx.out, records.skipped(later, ctx.launch, ctx.profile, ctx.spec,
                                              f"not run: the run broke off at {item.name}"))
    records.write_results(ctx.out, ctx.header, complete=True)
    print(f"mnistbench: {item.name} failed ({error}); the finished records are kept in "
          f"{ctx.out / rundir.RESULTS}", file=ctx.stream)


def _walk(ctx: Context) -> None:
    """Every item in lockstep; rank 0 records. An injected failure (the same on every rank, before
    any collective) is recorded and the walk goes on; anything else ends this rank."""
    rank0 = ctx.world.rank == 0
    progress = Progress(len(ctx.items), stream=ctx.stream) if rank0 else None
    for index, item in enumerate(ctx.items):
        dist.barrier(group=ctx.control)
        if ctx.world.rank >= item.world_size:
            continue
        if rank0:
            atomic.write_text_atomic(ctx.out / ACTIVE, item.name)
            progress.start(item.name)
        try:
            injected_failure(item.name)
        except RuntimeError as exc:
            if rank0:
                records.save(ctx.out, records.failed(item, ctx.launch, ctx.profile, ctx.spec,
                                                     one_line(exc), {}))
                progress.finish_item()
            continue
        try:
            window, training = _measure(ctx, item, progress)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            if rank0:
                progress.close()
                _lost(ctx, index, exc)
            raise
        if rank0:
            _record(ctx, item, window, training)
            progress.finish_item()
    if progress:
        progress.close()


def main(opts: RunOptions, stream: TextIO) -> Path | None:
    """This rank's whole run; rank 0 returns the results path. An error other than bad input
    goes to torchelastic's error file too, so the launcher can say what ended the rank."""
    try:
        return _main(opts, stream)
    except Exception as exc:
        if not isinstance(exc, UsageError):
            from torch.distributed.elastic.multiprocessing.errors import ErrorHandler

            ErrorHandler().record_exception(exc)
        raise


def _main(opts: RunOptions, stream: TextIO) -> Path | None:
    world = World.from_env()
    ctx = _prepare(opts, world, stream)
    signal.signal(signal.SIGTERM, _on_sigterm)
    _join(ctx)
    _load(ctx)
    _gather_ranks(ctx)
    lock = _open_run(ctx, opts)
    try:
        _make_groups(ctx)
        _walk(ctx)
        dist.barrier(group=ctx.control)
        path = None
        if world.rank == 0:
            (ctx.out / ACTIVE).unlink(missing_ok=True)
            path = records.finish(ctx.out, ctx.header, stream, ctx.report)
    except KeyboardInterrupt:
        if world.rank == 0:
            records.write_results(ctx.out, ctx.header, complete=False)
        raise
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)
    # Only after a clean walk: with a rank lost, tearing the groups down could wait on it.
    dist.destroy_process_group()
    return path
