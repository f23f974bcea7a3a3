"""Recount the FLOPs of a results.json's CNN cases with the current formula, in place.

    python scripts/recount_flops.py reports/examples/<run>/results.json [...]

Files written before commit 08c9ce0 counted a grouped convolution's weight gradient once per
group (torch.utils.flop_counter's formula), so their MobileNetV2 train steps claim about 7x
their FLOPs and GFLOP/s. The count depends only on the case's parameters, never on the timing,
so it can be redone after the fact: every ok CNN case gets `flops` recounted (bench.timing's own
step, bench.training.modelinfo's counter) and `gflops` = flops / its median. The file is
rewritten atomically and `recounted_flops` in its `config` names the formula's commit; nothing
measured changes. Re-render the report afterwards (`mnistbench report`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import torch

from bench.errors import UsageError
from bench.store import results as results_file
from bench.store.atomic import write_json_atomic
from bench.timing.bench_cnn import make_step
from bench.training.modelinfo import step_flops

FORMULA_COMMIT = "08c9ce0"


def recount(path: Path) -> list[str]:
    """Recount the file's CNN cases; returns one line per case whose count changed. A file
    that is not a valid results.json, or a schema-1 one (no FLOPs), is a UsageError."""
    if results_file.load(path).get("upgraded_from"):  # validated: one line if it is not one
        raise UsageError(f"{path} is a schema-1 results file: it has no FLOP counts to recount")
    results = json.loads(path.read_text())  # the file as written, not the validated copy
    changed = []
    for record in results.get("benchmarks", []):
        params = record.get("params") or {}
        if record.get("status") != "ok" or "family" not in params or not record.get("flops"):
            continue
        step, _ = make_step(SimpleNamespace(params=params), torch.device("cpu"))
        flops = step_flops(step)
        if flops != record["flops"]:
            changed.append(f"{record['name']}: {record['flops']:.4g} -> {flops:.4g} FLOPs")
        record["flops"] = flops
        record["gflops"] = flops / record["stats"]["median"] / 1e9
    results.setdefault("config", {})["recounted_flops"] = FORMULA_COMMIT
    write_json_atomic(path, results)
    return changed


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python scripts/recount_flops.py RESULTS.json [...]", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    for name in argv:
        path = Path(name)
        try:
            changed = recount(path)
        except UsageError as e:
            print(f"recount_flops: {e}", file=sys.stderr)
            return 2
        for line in changed:
            print(f"{path}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
