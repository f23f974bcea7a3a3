"""Published figures shown in the Method section's context panel (from ../shared/ANCHORS.md),
and beside each family's dimension-matching verdict (FAMILY_CONTEXT, reports.study).

These are other people's numbers, quoted with their sources so readers can place ours; they are
never compared against this run automatically (different networks, data and hardware). The
fastrnns LSTM timings are also kept as data (FASTRNNS) so the LSTM block of the report can set
them beside this run's LSTM results (reports.fastrnns).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedTiming:
    """One fastrnns runner's published LSTM timing, and the style here that does the same."""

    runner: str  # fastrnns' name for it
    what: str  # what the runner is
    style: str  # the closest mnistbench style
    forward_ms: str  # quoted as published ("30.0", not 30)
    backward_ms: str  # timed on its own: the forward is not included


# PyTorch benchmarks/fastrnns, as reported in PyTorch PR #45591 (../shared/ANCHORS.md): an LSTM
# at this shape, on a GPU, forward and backward timed separately.
FASTRNNS_SOURCE = "PyTorch benchmarks/fastrnns, PyTorch PR #45591"
FASTRNNS_SHAPE = {"cell": "lstm", "seq_len": 100, "batch": 64, "input_size": 512,
                  "hidden_size": 512}
FASTRNNS_SHAPE_TEXT = "seq 100, batch 64, input = hidden = 512"
FASTRNNS = (
    PublishedTiming("cudnn", "nn.LSTM on cuDNN", "native", "11.42", "17.88"),
    PublishedTiming("aten", "nn.LSTM with cuDNN disabled", "native-nocudnn", "25.68", "30.0"),
    PublishedTiming("jit", "TorchScript loop", "jit", "16.1", "29.7"),
    PublishedTiming("jit_premul_bias", "TorchScript, input projection and bias hoisted out of "
                    "the loop (premul here is eager)", "premul", "13.8", "25.7"),
    PublishedTiming("py", "Python loop", "loop", "40.4", "55.5"),
)


def fastrnns_figures() -> str:
    """'cudnn 11.42 / 17.88 ms, aten 25.68 / 30.0 ms, …' (forward / backward)."""
    return ", ".join(f"{t.runner} {t.forward_ms} / {t.backward_ms} ms" for t in FASTRNNS)


@dataclass(frozen=True)
class Anchor:
    topic: str
    fact: str
    source: str


# He et al. 2015, Table 3: ResNet-34 on ImageNet, 10-crop top-1 error (%), per shortcut option,
# quoted as published: (option, what it is, this project's resnet shortcut that does the same,
# error). Option C (every shortcut a projection) is not built here.
HE_2015_TOP1 = (("plain-34", "", "plain", "28.54"), ("A", "zero-padding", "zeropad", "25.03"),
                ("B", "projection where shapes change", "projection", "24.52"),
                ("C", "all projections", None, "24.19"))


def _he_2015() -> str:
    error = {option: float(top1) for option, _, _, top1 in HE_2015_TOP1}
    listed = ", ".join(
        f"{option} ({'; '.join(p for p in (what, ours and f'{ours} here') if p)}) {top1} %"
        for option, what, ours, top1 in HE_2015_TOP1)
    return (f"ImageNet top-1 error (ResNet-34, 10-crop): {listed}. B is "
            f"{error['A'] - error['B']:.2f} points better than A, C another "
            f"{error['B'] - error['C']:.2f}: projections help a little and are 'not essential'.")


RESIDUAL_SHORTCUTS = Anchor(
    "Residual shortcuts", _he_2015(),
    "He et al. 2015, Deep Residual Learning for Image Recognition, Table 3")
MOBILENETV2 = Anchor(
    "MobileNetV2",
    "72.0 % ImageNet top-1 with 300 M multiply-adds and 3.4 M parameters; a residual is added "
    "only when stride = 1 and channels match (paper here), never a projection shortcut.",
    "Sandler et al. 2018, MobileNetV2: Inverted Residuals and Linear Bottlenecks")
# The published context of each CNN family's dimension-matching verdict (reports.study).
FAMILY_CONTEXT = {"resnet": RESIDUAL_SHORTCUTS, "mobilenetv2": MOBILENETV2}


ANCHORS = (
    Anchor("RNN implementations",
           f"LSTM, {FASTRNNS_SHAPE_TEXT}, on a GPU, forward / backward: {fastrnns_figures()}; the "
           "best TorchScript forward is about 1.2× cuDNN.", FASTRNNS_SOURCE),
    Anchor("torch.compile on RNNs",
           "Dynamo breaks the graph at nn.RNN/LSTM/GRU; a Python loop is unrolled, so compile time "
           "grows with sequence length and a new length recompiles. TorchScript is deprecated "
           "(warning since 2.5).",
           "PyTorch documentation and fastrnns history"),
    RESIDUAL_SHORTCUTS,
    MOBILENETV2,
    Anchor("MNIST accuracy",
           "LeNet-5 0.95 % test error; Keras' 2-conv example 99.25 % after 12 epochs; row-by-row "
           "vanilla RNN-256 about 98.3 %.",
           "LeCun et al. 1998; Keras examples; ../shared/ANCHORS.md"),
    Anchor("Calling a difference real",
           "asv calls a change real only when Mann-Whitney U gives p < 0.002 and the ratio is "
           "beyond 1.1×; torch.utils.benchmark warns when IQR/median exceeds 10 %.",
           "airspeed velocity (asv) documentation; torch.utils.benchmark"),
)
