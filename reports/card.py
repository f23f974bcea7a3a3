"""The machine & software card of a run, and the banners a reader must not miss."""

from __future__ import annotations

from dataclasses import dataclass

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
    counts = f"{fmt.text(used)} of {fmt.text(ds.get('train_count'))} train images used, " \
             f"{fmt.text(ds.get('test_count'))} test images"
    checked = "checksums verified" if ds.get("verified") else "checksums NOT verified"
    return f"{ds.get('name')} from {ds.get('source')} ({ds.get('location')}); {counts}; {checked}"


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
        ("OS", fmt.text(m.get("operating_system"))),
        ("Commit", _commit(data.get("commit") or {})),
        ("Profile", f"{fmt.text(data.get('profile'))} on {fmt.text(cfg.get('device'))}"),
        ("Run id", fmt.text(data.get("run_id"))),
        ("Started", fmt.text(data.get("created_at"))),
        ("Finished", fmt.text(data.get("finished_at")) if data.get("finished_at")
         else "not finished"),
        ("Fingerprint", fmt.text(m.get("fingerprint"))),
        ("Dataset", _dataset(data["dataset"]) if data.get("dataset") else "none loaded"),
    ]


def banners(data: dict) -> list[Banner]:
    """Notices for an incomplete run, the bundled MNIST subset and unverified data."""
    out = []
    if data.get("status") == "partial":
        out.append(Banner("danger", "Incomplete run",
                          "This run was interrupted: some cases are missing. Resume it with "
                          "`mnistbench run --resume` before drawing conclusions."))
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
