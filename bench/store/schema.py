"""The results schema (version 2), owned here: one typed, frozen record per kind of entry.

Every writer builds its entries through these classes (`record.as_dict()` is what goes into the
file), and `bench.store.results.validate` derives its checks from the same fields, so a field
added here is written and validated at once. docs/architecture.md shows the file's layout.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

SCHEMA_VERSION = 2
TOOL = "mnistbench"
STATUSES = ("ok", "failed", "skipped")
RUN_STATUSES = ("complete", "partial")
BACKENDS = ("gloo", "nccl")  # torch.distributed backends of a scaling record (issue 14)


def _as_dict(record: object) -> dict:
    """asdict with tuples as lists (JSON has no tuples)."""
    def plain(value: object) -> object:
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value
    return {k: plain(v) for k, v in dataclasses.asdict(record).items()}


class Record:
    """What every schema record shares: `as_dict()` for the file."""

    def as_dict(self) -> dict:
        return _as_dict(self)


@dataclass(frozen=True)
class Stats(Record):
    """pytest-benchmark's summary of timed rounds, in seconds; `samples` keeps every round."""

    min: float
    max: float
    mean: float
    stddev: float
    median: float
    iqr: float
    q1: float
    q3: float
    rounds: int
    samples: list[float]


@dataclass(frozen=True)
class Pass(Record):
    """One pass of a case inside a repetition: its rounds, and the control timed just before."""

    rounds: int  # this pass's samples: the next `rounds` entries of the repetition's samples
    control_s: float | None  # the control workload's median (bench.timing.calibrate.control)
    # its two parts (Control.parts): the GEMM's and the small-op recurrence's median call time;
    # None in files written before they were kept
    control_gemm_s: float | None = None
    control_recurrence_s: float | None = None
    # recorded beside them, not part of control_s: the threads' fork-join probe
    # (Control.fork_s); None on CUDA and in files written before it was kept
    control_fork_s: float | None = None


@dataclass(frozen=True)
class Repetition(Record):
    """One case in one repetition: one fresh worker process's measurement."""

    repetition: int  # 0-based index of the worker process
    status: str  # ok | failed | skipped
    error: str | None
    stats: Stats | None  # None unless ok
    first_call_s: float | None  # the first call, timed alone (compilation lands there)
    # the passes the samples came from, in order (empty in files written before passes)
    passes: list[Pass] = field(default_factory=list)


@dataclass(frozen=True)
class Benchmark(Record):
    """One timed case over all its repetitions.

    A case is identified by its implementation and parameters (`name`, `device`); the groups it
    is shown in (the main comparison, a sweep) are a list, so a sweep point that equals the main
    case is measured once and shown in both places.
    """

    name: str
    group: str  # the first group it belongs to ("rnn", "rnn-seq_len", "cnn", ...)
    groups: list[str]
    implementation: str
    device: str
    params: dict
    status: str  # ok when every repetition that ran is ok; failed when one failed; or skipped
    error: str | None
    warnings: list[str]
    stats: Stats | None  # over the pooled rounds of every ok repetition
    repetitions: list[Repetition]
    spread: float | None  # repetition medians: max / min - 1
    unstable: bool  # spread > 10 %: the processes disagree, treat the median with care
    noisy: bool  # pooled iqr / median > 10 %
    compile_s: float | None  # compiling styles: the first call of the first repetition
    first_call_s: float | None
    flops: float | None  # per call, torch.utils.flop_counter (backward included when timed)
    gflops: float | None  # flops / median


@dataclass(frozen=True)
class CalibrationPoint(Record):
    repetition: int
    gemm_gflops: float  # the reference GEMM on the run's device
    host_gemm_gflops: float | None  # the same on the CPU, when the device is a GPU


@dataclass(frozen=True)
class Calibration(Record):
    """A float32 GEMM timed in every repetition: tells "the machine got slower" from "the code
    got slower", and gives each case's fraction of the machine's peak."""

    device: str
    gemm_n: int  # n x n @ n x n, float32
    gemm_gflops: float  # median over repetitions
    host_gemm_gflops: float | None
    repetitions: list[CalibrationPoint]
    # what each pass's control_s timed (bench.timing.calibrate.CONTROL_ID); None in files whose
    # control was the GEMM alone. Controls divide a verdict only where both runs timed the same.
    control: str | None = None


@dataclass(frozen=True)
class Epoch(Record):
    epoch: int  # 1-based
    time_s: float  # training wall time of this epoch, evaluation excluded
    train_loss: float | None  # mean cross-entropy over the epoch (null: a diverged run's NaN)
    test_acc: float  # fraction of the test set classified correctly after this epoch
    # Added with issue #12: a run stopped at its target mid-epoch ends with a partial epoch.
    fraction: float = 1.0  # share of the epoch's training images that were trained on


@dataclass(frozen=True)
class CurvePoint(Record):
    """One evaluation point of a training run (issue #12): where it was, and how good."""

    images: int  # training images seen so far (steps x batch, the last batch of an epoch short)
    epoch: float  # images / train_images: 0.25 is a quarter of the way through epoch 1
    time_s: float  # cumulative training wall time; evaluation and compilation excluded
    test_acc: float  # on the whole test set
    train_loss: float | None  # mean cross-entropy since the previous point (null: NaN)


@dataclass(frozen=True)
class Training(Record):
    """One training run of one seed."""

    name: str
    model: str
    variant: str | None
    device: str
    seed: int
    status: str
    error: str | None
    params_count: int | None
    flops: float | None  # forward FLOPs per image
    epochs: list[Epoch]
    time_to_target_s: float | None  # training time at the first evaluation point >= target
    target_acc: float | None
    train_images: int | None  # training images per epoch
    test_images: int | None
    images_per_s: float | None  # training throughput over all epochs run
    # Added with issue #12; absent from older files, which read as "no curve, options unknown".
    curve: list[CurvePoint] = field(default_factory=list)  # every evaluation point, in order
    reached_target: bool = False  # some evaluation point >= target_acc
    eval_s: float | None = None  # total wall time of the evaluations (not on the training clock)
    compile_s: float | None = None  # compiling the train step before the clock (null: eager)
    options: dict = field(default_factory=dict)  # every trainer choice (TrainConfig but seed)


@dataclass(frozen=True)
class Rank(Record):
    """One process of a data-parallel run (issue 14): where it ran and how it ended."""

    rank: int  # global rank (torchrun's RANK)
    local_rank: int  # its index on its node (LOCAL_RANK)
    node: int  # its node's index in the launch (torchrun's GROUP_RANK)
    host: str
    pid: int
    status: str  # ok | failed | skipped (its world size did not run)
    error: str | None  # what it died of, as the rank itself or its launcher saw it


@dataclass(frozen=True)
class Scaling(Record):
    """One model trained data-parallel (DDP, launched by torchrun) at one world size.

    The global batch is the same at every world size (`lr_rule` says how the LR follows);
    `images_per_s` and `step_s` come from steady-state steps after `warmup_steps`, `comm_*` from
    a DDP comm hook around torch's own all-reduce, `training` is the time-to-target run.
    """

    name: str  # "scaling/<model>/<variant>/ws<world size>/seed<seed>"
    model: str
    variant: str | None
    device: str  # cpu | cuda: every rank's device type
    backend: str  # gloo | nccl
    world_size: int
    nodes: int  # distinct nodes among the ranks
    devices: list[str]  # per rank, in rank order: "cuda:0 (NVIDIA H100 ...)", "cpu (1 thread)"
    ranks: list[Rank]
    threads: int  # torch intra-op threads per rank
    seed: int
    global_batch: int
    per_rank_batch: list[int]  # each rank's share of a full global batch, in rank order
    lr: float  # peak LR at this world size
    lr_rule: str
    status: str  # ok | failed | skipped
    error: str | None
    warmup_steps: int
    step_s: Stats | None  # each timed step (seconds, rank 0's clock, device synchronised)
    images_per_s: float | None  # global batch x timed steps / their total time
    efficiency: float | None  # images_per_s / (world_size x images_per_s at world size 1)
    comm_s: float | None  # per step (median): wall time with a gradient all-reduce in flight
    comm_share: float | None  # comm_s / median step time
    nosync_step_s: float | None  # median step under DDP no_sync(): no gradient communication
    exposed_comm_share: float | None  # (step - no_sync step) / step: what overlap did not hide
    training: Training | None  # the time-to-target run (rank 0's view; accuracy over all ranks)


@dataclass(frozen=True)
class Machine(Record):
    """MLPerf system-description names; `fingerprint` hashes the hardware fields only."""

    host_processor_model_name: str | None
    host_processor_core_count: int | None
    host_processor_vcpu_count: int | None
    host_memory_capacity: str | None
    accelerator_model_name: str | None
    accelerators_per_node: int
    accelerator_memory_capacity: str | None
    operating_system: str | None
    fingerprint: str


@dataclass(frozen=True)
class Commit(Record):
    sha: str | None  # None outside a git checkout
    dirty: bool | None


@dataclass(frozen=True)
class DatasetInfo(Record):
    """Where the data came from and how much of it a run used."""

    name: str
    source: str  # data-dir | env | system | cache | download | bundled
    location: str
    train_count: int  # images in the files
    test_count: int
    train_used: int  # the most training images any training run of this run used
    verified: bool
    subset: bool
    files: dict
    notes: list[str]
    # the most test images any training run evaluated on (short runs take a class-balanced
    # part: the trainer's test_limit); None in files written before it was recorded
    test_used: int | None = None


@dataclass(frozen=True)
class Results(Record):
    """The whole file. A partial run (Ctrl-C) has status "partial" and what finished."""

    schema_version: int
    tool: str
    run_id: str
    created_at: str
    finished_at: str | None
    status: str
    profile: str
    config: dict
    machine: Machine
    software: dict
    commit: Commit
    dataset: DatasetInfo | None
    calibration: Calibration | None
    benchmarks: list[Benchmark] = field(default_factory=list)
    training: list[Training] = field(default_factory=list)
    pytest_benchmark_json: str | None = None
    scaling: list[Scaling] = field(default_factory=list)  # issue 14; absent from older files


# Fields that a schema-1 file may lack (added in version 2): validate supplies them on upgrade.
ADDED_IN_2 = {
    Benchmark: ("groups", "repetitions", "spread", "unstable", "flops", "gflops",
                "first_call_s"),
    Results: ("calibration",),
    DatasetInfo: ("subset",),
}
