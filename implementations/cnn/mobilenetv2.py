"""MobileNetV2 reduced to 28×28×1 MNIST; shortcut mode and bottleneck activation are options.

Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks". Each block is an
inverted residual (§3.3, Table 1): 1×1 expansion by t → 3×3 depthwise (stride s) → *linear* 1×1
projection. The paper adds a residual only when stride = 1 and input channels = output channels;
`projection` (a 1×1 conv shortcut wherever they differ) and `none` are our ablations, and
`bottleneck_act="relu6"` is the paper's own Fig. 6a ablation (a non-linear bottleneck).

    from implementations.cnn import build
    model = build("mobilenetv2", "paper", bottleneck_act="linear", width_mult=1.0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# [t, c, n, s] = expansion, output channels, repeats, stride of the first repeat.
# Reduced from the paper's Table 2 (224×224 input, 7 rows, 17 blocks, last conv 1280) to fit 28×28:
# the stem is the paper's (3×3, 32 filters, stride 2: 28 -> 14); rows 16, 24 and 32 keep their
# t, c and n; row 24 takes the map to 7×7, so rows 32 and 64 use stride 1 instead of 2 (a third
# halving would leave a 4×4 map); row 64 keeps 2 of its 4 repeats; the 96/160/320 rows are dropped
# and the last 1×1 conv is 320 wide, not 1280. Overall 28 -> 7, the same 4× as ResNet's stages.
INVERTED_RESIDUAL_SETTING: list[list[int]] = [
    # t, c, n, s
    [1, 16, 1, 1],  # 14×14
    [6, 24, 2, 2],  # 7×7
    [6, 32, 3, 1],  # 7×7
    [6, 64, 2, 1],  # 7×7
]
STEM_CHANNELS = 32  # Table 2, first row: conv2d 3×3, 32 filters, stride 2
LAST_CHANNELS = 320  # Table 2 uses 1280 for 1000 ImageNet classes; 10 classes need far fewer
SHORTCUTS = ("paper", "projection", "none")
BOTTLENECK_ACTS = ("linear", "relu6")


def make_divisible(v: float, divisor: int = 8) -> int:
    """Round a width to a multiple of 8, never losing more than 10 % (the reference code's rule)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def make_shortcut(mode: str, inp: int, oup: int, stride: int) -> nn.Module | None:
    """The one shortcut rule: what is added to a block's output (None = nothing is added)."""
    same_shape = stride == 1 and inp == oup
    if mode == "none":
        return None
    if same_shape:
        return nn.Identity()  # the paper's residual: bottleneck to bottleneck
    if mode == "projection":
        return nn.Sequential(
            nn.Conv2d(inp, oup, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(oup),
        )
    return None  # "paper": no residual where the shape changes


def conv_bn_relu6(inp: int, oup: int, kernel: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """One bottleneck block (Table 1): expand ×t, depthwise 3×3, project back (linear)."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int,
                 shortcut: str, bottleneck_act: str) -> None:
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(inp, hidden_dim, 1, 1))  # pw
        layers += [
            conv_bn_relu6(hidden_dim, hidden_dim, 3, stride, groups=hidden_dim),  # dw
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),  # pw-linear
            nn.BatchNorm2d(oup),
        ]
        if bottleneck_act == "relu6":
            layers.append(nn.ReLU6(inplace=True))  # Fig. 6a ablation: non-linear bottleneck
        self.conv = nn.Sequential(*layers)
        self.shortcut = make_shortcut(shortcut, inp, oup, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)  # (N, oup, H/s, W/s)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return out


class MobileNetV2(nn.Module):
    """`(N, 1, 28, 28) -> (N, num_classes)` logits over `INVERTED_RESIDUAL_SETTING`."""

    def __init__(self, shortcut: str = "paper", bottleneck_act: str = "linear",
                 width_mult: float = 1.0, num_classes: int = 10) -> None:
        super().__init__()
        inp = make_divisible(STEM_CHANNELS * width_mult)
        last = make_divisible(LAST_CHANNELS * max(1.0, width_mult))
        layers: list[nn.Module] = [conv_bn_relu6(1, inp, 3, 2)]  # (N, 32, 14, 14)
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            oup = make_divisible(c * width_mult)
            for i in range(n):
                stride = s if i == 0 else 1
                layers.append(InvertedResidual(inp, oup, stride, t, shortcut, bottleneck_act))
                inp = oup
        layers.append(conv_bn_relu6(inp, last, 1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(last, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (N, 320, 7, 7)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # (N, last)
        return self.classifier(x)  # (N, 10)


def build(shortcut: str, bottleneck_act: str = "linear", width_mult: float = 1.0) -> MobileNetV2:
    """Build the reduced MobileNetV2; raises ValueError for an unknown option value."""
    if shortcut not in SHORTCUTS:
        raise ValueError(
            f"unknown mobilenetv2 shortcut {shortcut!r}: choose one of {', '.join(SHORTCUTS)}")
    if bottleneck_act not in BOTTLENECK_ACTS:
        raise ValueError(f"unknown mobilenetv2 bottleneck_act {bottleneck_act!r}: "
                         f"choose one of {', '.join(BOTTLENECK_ACTS)}")
    if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)) or width_mult <= 0:
        raise ValueError(f"mobilenetv2 width_mult must be a positive number, got {width_mult!r}")
    return MobileNetV2(shortcut=shortcut, bottleneck_act=bottleneck_act, width_mult=width_mult)
