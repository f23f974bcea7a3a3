"""Published figures shown in the Method section's context panel (from ../shared/ANCHORS.md).

These are other people's numbers, quoted with their sources so readers can place ours; they are
never compared against this run automatically (different networks, data and hardware).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Anchor:
    topic: str
    fact: str
    source: str


ANCHORS = (
    Anchor("RNN implementations",
           "LSTM, seq 100, batch 64, input = hidden = 512, forward / backward: cuDNN 11.42 / 17.88 "
           "ms, cuDNN disabled (aten) 25.68 / 30.0 ms, TorchScript premul+bias 13.8 / 25.7 ms, "
           "Python loop 40.4 / 55.5 ms; the best TorchScript forward is about 1.2× cuDNN.",
           "PyTorch benchmarks/fastrnns, PyTorch PR #45591"),
    Anchor("torch.compile on RNNs",
           "Dynamo breaks the graph at nn.RNN/LSTM/GRU; a Python loop is unrolled, so compile time "
           "grows with sequence length and a new length recompiles. TorchScript is deprecated "
           "(warning since 2.5).",
           "PyTorch documentation and fastrnns history"),
    Anchor("Residual shortcuts",
           "ImageNet top-1 error (10-crop): plain-34 28.54 %, ResNet-34 option A (zero-pad) "
           "25.03 %, B (projection where shapes change) 24.52 %, C (all projections) 24.19 %: "
           "projections help a little and are 'not essential'.",
           "He et al. 2015, Deep Residual Learning for Image Recognition, Table 3"),
    Anchor("MobileNetV2",
           "72.0 % ImageNet top-1 with 300 M multiply-adds and 3.4 M parameters; a residual is "
           "added only when stride = 1 and channels match, never a projection shortcut.",
           "Sandler et al. 2018, MobileNetV2: Inverted Residuals and Linear Bottlenecks"),
    Anchor("MNIST accuracy",
           "LeNet-5 0.95 % test error; Keras' 2-conv example 99.25 % after 12 epochs; row-by-row "
           "vanilla RNN-256 about 98.3 %.",
           "LeCun et al. 1998; Keras examples; ../shared/ANCHORS.md"),
    Anchor("Calling a difference real",
           "asv calls a change real only when Mann-Whitney U gives p < 0.002 and the ratio is "
           "beyond 1.1×; torch.utils.benchmark warns when IQR/median exceeds 10 %.",
           "airspeed velocity (asv) documentation; torch.utils.benchmark"),
)
