"""The machine & software card of a run, and the banners a reader must not miss."""

from __future__ import annotations

from dataclasses import dataclass

from bench.system import allocator
from bench.timing import stats
from reports import fmt


@dataclass(frozen=True)
class Banner:
    """A loud notice at the top of a report; `level` is a CSS class (danger / warn / info)."""

    level: str
    title: str
    text: str


def _gpu(machine: dict) -> str:
    name = machine.get("accelerator_model_name")
    if not name:
        return "none"
    count = machine.get("accelerators_per_node") or 1
    memory = machine.get("accelerator_memory_capacity")
    return f"{count} × {name}" + (f" ({memory})" if memory else "")


def _commit(commit: dict) -> str:
    sha = commit.get("sha")
    if not sha:
        return "not a git checkout"
    return f"{sha[:12]}" + (" + uncommitted changes (dirty)" if commit.get("dirty") else "")


def _dataset(ds: dict) -> str:
    used = ds.get("train_used") or ds.get("train_count")
    tested = ds.get("test_used") or ds.get("test_count")
    counts = f"{fmt.text(used)} of {fmt.text(ds.get('train_count'))} train images used, " \
             f"{fmt.text(tested)} of {fmt.text(ds.get('test_count'))} test images"
    checked = "checksums verified" if ds.get("verified") else "checksums NOT verified"
    return f"{ds.get('name')} from {ds.get('source')} ({ds.get('location')}); {counts}; {checked}"


def _rates(points: list[dict], key: str) -> list[float]:
    return [p[key] for p in points if p.get(key) is not None]


def calibration(data: dict) -> str:
    """'float32 GEMM 1024×1024 on cpu: 84.2 GFLOP/s (median of 3 repetitions: 83.9, 84.2, 85.0;
    spread 1.3 %)', or why there is none."""
    cal = data.get("calibration")
    if not cal:
        return ("not measured (a schema-1 file)" if data.get("upgraded_from") == 1
                else "not measured")
    rates = _rates(cal.get("repetitions") or [], "gemm_gflops")
    n = cal.get("gemm_n")
    text = (f"float32 GEMM {n}×{n} on {cal.get('device')}: {fmt.gflops(cal['gemm_gflops'])} "
            f"(median of {len(rates)} repetition{'s' if len(rates) != 1 else ''}: "
            f"{', '.join(fmt.gflops(r)[:-8] for r in rates)}; spread "
            f"{fmt.percent(stats.spread(rates))})")
    if cal.get("host_gemm_gflops") is not None:
        text += f"; host CPU {fmt.gflops(cal['host_gemm_gflops'])}"
    return text


def fields(data: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of the card, in display order; every value is plain text."""
    m, s = data["machine"], data["software"]
    cfg = data.get("config") or {}
    return [
        ("CPU", fmt.text(m.get("host_processor_model_name"))),
        ("Cores", f"{fmt.text(m.get('host_processor_core_count'))} cores, "
                  f"{fmt.text(m.get('host_processor_vcpu_count'))} vCPUs"),
        ("Memory", fmt.text(m.get("host_memory_capacity"))),
        ("GPU", _gpu(m)),
        ("Driver", fmt.text(s.get("driver"))),
        ("CUDA / cuDNN", f"{fmt.text(s.get('cuda'))} / {fmt.text(s.get('cudnn'))}"),
        ("PyTorch", f"{fmt.text(s.get('torch'))} (torchvision {fmt.text(s.get('torchvision'))})"),
        ("Python", fmt.text(s.get("python"))),
        ("Threads", f"{fmt.text(s.get('threads'))} intra-op, "
                    f"{fmt.text(s.get('interop_threads'))} inter-op"),
        ("Allocator", allocator.summary(s.get("malloc"))),
        ("CPU kernels", f"{s['cpu_capability']} (the vector ISA ATen dispatches to)"
         if s.get("cpu_capability") else "not recorded"),
        ("bptt LSTM loops", s.get("bptt_kernel") or "not recorded"),
        ("OS", fmt.text(m.get("operating_system"))),
        ("Commit", _commit(data.get("commit") or {})),
        ("Profile", f"{fmt.text(data.get('profile'))} on {fmt.text(cfg.get('device'))}"),
        ("Run id", fmt.text(data.get("run_id"))),
        ("Started", fmt.text(data.get("created_at"))),
        ("Finished", fmt.text(data.get("finished_at")) if data.get("finished_at")
         else "not finished"),
        ("Fingerprint", fmt.text(m.get("fingerprint"))),
        ("Calibration", calibration(data)),
        ("Dataset", _dataset(data["dataset"]) if data.get("dataset") else "none loaded"),
    ]


def banners(data: dict) -> list[Banner]:
    """Notices for an incomplete run, one repetition per case, a machine whose speed moved
    during the run, the bundled MNIST subset and unverified data."""
    out = []
    if data.get("status") == "partial":
        out.append(Banner("danger", "Incomplete run",
                          "This run was interrupted: some cases are missing. Resume it with "
                          "`mnistbench run --resume` before drawing conclusions."))
    out += _measurement_banners(data)
    ds = data.get("dataset")
    if not ds:  # a run that trained nothing may carry no dataset at all
        return out
    if ds.get("source") == "bundled":
        out.append(Banner("danger", "Bundled MNIST subset — not MNIST proper",
                          f"Training used the small subset bundled with mnistbench "
                          f"({fmt.text(ds.get('train_used') or ds.get('train_count'))} train "
                          f"images); accuracies are not comparable with published MNIST results."))
    if not ds.get("verified", False):
        notes = "; ".join(str(n) for n in ds.get("notes") or [])
        out.append(Banner("warn", "Dataset not verified",
                          "The MNIST files' checksums were not matched against the standard "
                          "files" + (f" ({notes})." if notes else ".")))
    return out


def _measurement_banners(data: dict) -> list[Banner]:
    out = []
    if data.get("upgraded_from") == 1:
        out.append(Banner("info", "Version-1 results: one repetition per case",
                          "This file predates repetitions: each case ran in one process, so no "
                          "difference between styles or runs can be called real; rankings are "
                          "by median only. Re-run with this version for verdicts."))
    rates = _rates((data.get("calibration") or {}).get("repetitions") or [], "gemm_gflops")
    if stats.unstable(rates):
        out.append(Banner("warn", "The machine's speed moved during this run",
                          f"The reference GEMM ran at {', '.join(fmt.gflops(r) for r in rates)} "
                          f"in its repetitions (spread {fmt.percent(stats.spread(rates))}): "
                          "something else was using this machine; repeat the run before "
                          "trusting small differences."))
    return out
