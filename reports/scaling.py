"""The data-parallel scaling section of a report, and scaling records matched across runs.

Reads the `scaling[]` block of a results file (issue 14): per model and world size the
throughput, its efficiency against world size 1, the communication share of a step, and the
time-to-target run's accuracy. A run without scaling records has no such section.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reports import charts, fmt
from reports.load import Run
from reports.tables import Table, make_table
from reports.templating import Chart, svg

COLUMNS = ["name", "label", "model", "variant", "device", "backend", "world_size", "nodes",
           "devices", "global_batch", "per_rank_batch", "lr", "lr_rule", "status", "error",
           "step_median", "step_iqr", "steps", "images_per_s", "efficiency", "comm_share",
           "exposed_comm_share", "final_acc", "time_to_target_s", "target_acc", "reached"]


def _row(entry: dict) -> dict:
    training = entry.get("training") or {}
    curve = training.get("curve") or []
    step = entry.get("step_s") or {}
    return {
        "name": entry["name"], "label": entry["model"] if entry.get("variant") is None
        else f"{entry['model']}/{entry['variant']}", "model": entry["model"],
        "variant": entry.get("variant"), "device": entry["device"], "backend": entry["backend"],
        "world_size": entry["world_size"], "nodes": entry["nodes"],
        "devices": list(entry.get("devices") or []), "global_batch": entry["global_batch"],
        "per_rank_batch": list(entry["per_rank_batch"]), "lr": entry["lr"],
        "lr_rule": entry["lr_rule"], "status": entry["status"], "error": entry.get("error"),
        "step_median": step.get("median"), "step_iqr": step.get("iqr"),
        "steps": step.get("rounds"), "images_per_s": entry.get("images_per_s"),
        "efficiency": entry.get("efficiency"), "comm_share": entry.get("comm_share"),
        "exposed_comm_share": entry.get("exposed_comm_share"),
        "final_acc": curve[-1]["test_acc"] if curve else None,
        "time_to_target_s": training.get("time_to_target_s"),
        "target_acc": training.get("target_acc"), "reached": training.get("reached_target"),
    }


def frame(run: Run) -> pd.DataFrame:
    """One row per scaling record (model x world size), in file order."""
    out = pd.DataFrame([_row(e) for e in run.data.get("scaling") or []], columns=COLUMNS)
    for column in ("step_median", "step_iqr", "images_per_s", "efficiency", "comm_share",
                   "exposed_comm_share", "final_acc", "time_to_target_s", "target_acc"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    return out


def _batch(row: pd.Series) -> str:
    shares = sorted(set(row["per_rank_batch"]))
    return f"{row['global_batch']} ({'/'.join(map(str, shares))} per rank)"


def _target(row: pd.Series) -> str:
    if row["status"] != "ok":
        return fmt.DASH
    if pd.isna(row["time_to_target_s"]):
        return f"not reached ({fmt.accuracy(row['target_acc'])})"
    return f"{fmt.duration(row['time_to_target_s'])} to {fmt.accuracy(row['target_acc'])}"


TABLE_SPEC = [("Model", False), ("World size", True), ("Nodes", True), ("Backend", False),
              ("Global batch", True), ("Step, median (IQR)", True), ("Throughput", True),
              ("Efficiency", True), ("All-reduce in flight", True), ("Exposed comm", True),
              ("Final test accuracy", True), ("Time to target", True), ("Status", False)]


def table(rows: pd.DataFrame) -> Table:
    out, flags = [], []
    for _, r in rows.iterrows():
        out.append([r["label"], str(r["world_size"]), str(r["nodes"]),
                    f"{r['backend']} ({r['device']})", _batch(r),
                    fmt.duration_spread(r["step_median"], r["step_iqr"]),
                    fmt.rate(r["images_per_s"]), fmt.percent(r["efficiency"]),
                    fmt.percent(r["comm_share"]), fmt.percent(r["exposed_comm_share"]),
                    fmt.accuracy(r["final_acc"]), _target(r),
                    r["status"] if r["status"] == "ok" else f"{r['status']}: {r['error']}"])
        flags.append("" if r["status"] == "ok" else "bad" if r["status"] == "failed" else "warn")
    return make_table(TABLE_SPEC, out, flags)


def sentences(rows: pd.DataFrame) -> list[str]:
    """Per model: the largest measured world size against world size 1, in words."""
    out = []
    for label, part in rows[rows["status"] == "ok"].groupby("label", sort=False):
        base = part[part["world_size"] == 1]
        top = part.sort_values("world_size").iloc[-1]
        if base.empty or top["world_size"] == 1:
            continue
        b = base.iloc[0]
        speedup = top["images_per_s"] / b["images_per_s"]
        out.append(f"{label}: {fmt.rate(top['images_per_s'])} on {top['world_size']} ranks "
                   f"against {fmt.rate(b['images_per_s'])} on one — {fmt.ratio(speedup)}, a "
                   f"scaling efficiency of {fmt.percent(top['efficiency'])}; test accuracy "
                   f"{fmt.accuracy(top['final_acc'])} against {fmt.accuracy(b['final_acc'])} "
                   "at the same global batch.")
    return out


def failures(run: Run, failed: pd.DataFrame) -> pd.DataFrame:
    """`failed` (reports.analysis.failures' rows) with the scaling records that did not finish."""
    rows = frame(run)
    rows = rows[rows["status"] != "ok"].assign(kind="scaling")[
        ["kind", "name", "device", "status", "error"]]
    return failed if rows.empty else pd.concat([failed, rows], ignore_index=True)


@dataclass(frozen=True)
class Section:
    table: Table | None
    chart: Chart | None
    sentences: list[str]
    notes: list[str]


METHOD = ("Each model is trained with DistributedDataParallel at every world size W (ranks 0 .. "
          "W-1; gloo on CPU, NCCL on CUDA), started through torchrun's launcher. Throughput: "
          "after the warm-up steps, steady-state steps are timed one by one on rank 0 (device "
          "synchronised); images/s = global batch × steps / their total time; efficiency = "
          "images/s ÷ (W × images/s at W = 1). All-reduce in flight: per step, the time during "
          "which a gradient bucket's all-reduce was running (a DDP comm hook around torch's own "
          "all-reduce hook), as a share of the median step; it overlaps the backward pass. "
          "Exposed comm: 1 − (median step under no_sync(), which skips the all-reduce) ÷ "
          "(median step). Each sample goes to exactly one rank per epoch (DistributedSampler "
          "semantics); accuracy and time to target come from a separate run to the target at "
          "the same global batch, evaluated on the whole test set (off the clock).")


def section(run: Run, salt: str) -> Section:
    rows = frame(run)
    if rows.empty:
        return Section(None, None, [], [])
    ok = rows[rows["status"] == "ok"]
    chart = None
    if not ok.empty:
        title = "Data-parallel scaling: throughput and efficiency against world size"
        chart = Chart(title, svg(charts.scaling_chart(ok, title, charts.palette(
            rows["label"].tolist()), salt)), "Left: images/s, with dashed lines for perfect "
            "scaling from world size 1. Right: efficiency, images/s per rank over world size "
            "1's (100 % = perfect).")
    rules = sorted(set(rows["lr_rule"]))
    return Section(table(rows), chart, sentences(rows),
                   [METHOD] + [f"Learning rate: {rule}." for rule in rules])


# --- compare: scaling records across runs ----------------------------------------------------

def matched(runs: list[Run]) -> pd.DataFrame:
    """Every scaling record of every run (column `run`), for the records present in 2+ runs."""
    frames = [frame(run).assign(run=i) for i, run in enumerate(runs)]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    counts = rows.groupby("name")["run"].nunique()
    return rows[rows["name"].isin(counts[counts > 1].index)]


def compare_table(runs: list[Run]) -> Table:
    """Per scaling item (model and world size): each run's throughput and efficiency, and its
    throughput against the first run that has the item."""
    rows = matched(runs)
    spec = [("Item", False)]
    for i in range(len(runs)):
        spec += [(f"Run {i + 1}", True), (f"Run {i + 1} efficiency", True)]
    spec += [("Throughput vs first", True)]
    out = []
    for name, part in rows.groupby("name", sort=False):
        by_run = part.set_index("run")
        cells, first = [name], None
        for i in range(len(runs)):
            if i not in by_run.index:
                cells += ["missing", "missing"]
                continue
            r = by_run.loc[i]
            ok = r["status"] == "ok"
            nodes = f", {r['nodes']} nodes" if r["nodes"] > 1 else ""
            cells += [f"{fmt.rate(r['images_per_s'])}, {r['backend']} on {r['device']}{nodes}"
                      if ok else r["status"], fmt.percent(r["efficiency"]) if ok else fmt.DASH]
            if ok and first is None:
                first = r["images_per_s"]
        others = [by_run.loc[i, "images_per_s"] for i in by_run.index
                  if by_run.loc[i, "status"] == "ok"]
        cells.append(" / ".join(fmt.ratio(v / first) for v in others[1:])
                     if first and len(others) > 1 else fmt.DASH)
        out.append(cells)
    return make_table(spec, out)
