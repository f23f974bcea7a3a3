"""The Scaling records of a run (ok, failed, skipped) and its results files, built in one place.

Rank 0 saves each finished item to progress.jsonl at once and rewrites results.json (status
"partial") after it, so a run that loses a rank keeps everything that finished; the launcher
(`mnistbench run`) completes the record of the item in flight with what it saw of each rank.
Everything a record needs besides its measurement is in the run header's `config.launch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch

from bench.run import assemble
from bench.scaling.ddp import Window
from bench.scaling.plan import LR_RULE, Item, lr_at, shard_sizes
from bench.store import atomic, results, rundir, schema
from bench.timing import stats
from bench.timing.profiles import Profile, ScalingSpec
from bench.training.runs import train_config


@dataclass(frozen=True)
class _NoCases:
    """A scaling run times no harness case and runs no plain training (assemble's plan)."""

    timed: tuple = ()
    trains: tuple = ()


def _ranks(launch: dict, size: int, errors: dict[int, str], status: str) -> list[schema.Rank]:
    return [schema.Rank(rank=r["rank"], local_rank=r["local_rank"], node=r["node"],
                        host=r["host"], pid=r["pid"],
                        status="failed" if r["rank"] in errors else status,
                        error=errors.get(r["rank"]))
            for r in launch["ranks"][:size]]


def _fields(item: Item, launch: dict, profile: Profile, spec: ScalingSpec) -> dict:
    """Everything but the status and the measurement."""
    size, config = item.world_size, train_config(item.case, profile)
    ranks = launch["ranks"][:size]
    return dict(name=item.name, model=item.case.spec.model, variant=item.case.spec.variant,
                device=launch["device"], backend=launch["backend"], world_size=size,
                nodes=len({r["node"] for r in ranks}), devices=[r["device"] for r in ranks],
                threads=launch["threads"], seed=item.case.seed,
                global_batch=config.batch_size,
                per_rank_batch=shard_sizes(config.batch_size, size),
                lr=lr_at(config.lr, size), lr_rule=LR_RULE, warmup_steps=spec.warmup_steps)


_UNMEASURED = dict(step_s=None, images_per_s=None, efficiency=None, comm_s=None,
                   comm_share=None, nosync_step_s=None, exposed_comm_share=None, training=None)


def ok(item: Item, launch: dict, profile: Profile, spec: ScalingSpec, window: Window,
       training: schema.Training, baseline: float | None) -> schema.Scaling:
    """A measured item; `baseline`: images/s of the same model at world size 1 (if measured)."""
    fields = _fields(item, launch, profile, spec)
    step = stats.median(window.step_s)
    images_per_s = fields["global_batch"] * len(window.step_s) / sum(window.step_s)
    comm, nosync = stats.median(window.comm_s), stats.median(window.nosync_s)
    if item.world_size == 1:
        baseline = images_per_s  # efficiency 1 by definition
    return schema.Scaling(
        **fields, ranks=_ranks(launch, item.world_size, {}, "ok"), status="ok", error=None,
        step_s=schema.Stats(**stats.summary(window.step_s)), images_per_s=images_per_s,
        efficiency=images_per_s / (item.world_size * baseline) if baseline else None,
        comm_s=comm, comm_share=comm / step, nosync_step_s=nosync,
        exposed_comm_share=max(0.0, (step - nosync) / step), training=training)


def failed(item: Item, launch: dict, profile: Profile, spec: ScalingSpec, error: str,
           rank_errors: dict[int, str]) -> schema.Scaling:
    return schema.Scaling(**_fields(item, launch, profile, spec), **_UNMEASURED,
                          ranks=_ranks(launch, item.world_size, rank_errors, "ok"),
                          status="failed", error=error)


def skipped(item: Item, launch: dict, profile: Profile, spec: ScalingSpec,
            reason: str) -> schema.Scaling:
    return schema.Scaling(**_fields(item, launch, profile, spec), **_UNMEASURED,
                          ranks=_ranks(launch, item.world_size, {}, "skipped"),
                          status="skipped", error=reason)


def save(out: Path, record: schema.Scaling) -> None:
    """Append the record to progress.jsonl (a later record of the same item replaces it)."""
    atomic.append_jsonl(out / rundir.PROGRESS, {"type": "scaling", "record": record.as_dict()})


def saved(out: Path) -> dict[str, dict]:
    """The records saved so far, by item name."""
    return {e["record"]["name"]: e["record"] for e in rundir.load_progress(out)
            if e["type"] == "scaling"}


def write_results(out: Path, header: dict, complete: bool) -> Path:
    """results.json from everything saved (validated, atomic)."""
    device = torch.device(header["config"]["device"])
    return assemble.write_results(out, header, rundir.load_progress(out), _NoCases(), device,
                                  complete)


def finish(out: Path, header: dict, stream: TextIO, report: bool) -> Path:
    """The complete results.json, the closing summary and (unless --no-report) the report."""
    path = write_results(out, header, complete=True)
    assemble.summary(stream, out, results.load(path))
    if report:
        from reports.report import write_report

        for written in write_report(path):
            print(f"mnistbench: wrote {written}", file=stream)
    return path
