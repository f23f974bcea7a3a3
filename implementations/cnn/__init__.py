"""CNN registry: one name per family, one argument for the shortcut mode.

    from implementations.cnn import build, variants
    for family, shortcut in variants():
        model = build(family, shortcut)   # (N, 1, 28, 28) -> (N, 10) logits

Family options go through `**kwargs`: resnet takes `n` (6n+2 layers); mobilenetv2 takes
`bottleneck_act` ("linear" | "relu6") and `width_mult`. `variants()` is family × shortcut only:
the bottleneck activation is an ablation knob, not a separate variant.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from implementations.cnn import mobilenetv2, resnet


@dataclass(frozen=True)
class VariantInfo:
    family: str
    shortcut: str
    summary: str  # one line, for `mnistbench list` and the report
    # The family's paper default, which the report measures every other shortcut against:
    # option A for the CIFAR ResNets (He et al. 2015, sec. 4.2), residual-where-shapes-match for
    # MobileNetV2 (Sandler et al. 2018, sec. 4).
    baseline: bool = False


_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "resnet": resnet.build,
    "mobilenetv2": mobilenetv2.build,
}
_SHORTCUTS: dict[str, tuple[str, ...]] = {
    "resnet": resnet.SHORTCUTS,
    "mobilenetv2": mobilenetv2.SHORTCUTS,
}
_BASELINES: dict[str, str] = {"resnet": "zeropad", "mobilenetv2": "paper"}
_SUMMARIES: dict[tuple[str, str], str] = {
    ("resnet", "projection"): "ResNet-(6n+2), option B: 1×1 conv + BN shortcut where the shape "
                              "changes",
    ("resnet", "zeropad"): "ResNet-(6n+2), option A: subsample + zero-padded channels, no "
                           "parameters",
    ("resnet", "none"): "ResNet-(6n+2), identity shortcuts only; none where the shape changes",
    ("resnet", "plain"): "plain (6n+2)-layer net: the same layers with no shortcuts at all",
    ("mobilenetv2", "paper"): "MobileNetV2 (reduced), residual only at stride 1 with equal "
                              "channels",
    ("mobilenetv2", "projection"): "MobileNetV2 (reduced), 1×1 conv + BN shortcut where shapes "
                                   "differ: every block residual",
    ("mobilenetv2", "none"): "MobileNetV2 (reduced), no residual connections",
}


def variants() -> list[tuple[str, str]]:
    """Every (family, shortcut) pair, in a stable order."""
    return [(family, shortcut) for family in _BUILDERS for shortcut in _SHORTCUTS[family]]


def describe() -> list[VariantInfo]:
    return [VariantInfo(f, s, _SUMMARIES[(f, s)], baseline=_BASELINES[f] == s)
            for f, s in variants()]


def build(family: str, shortcut: str, **kwargs: object) -> nn.Module:
    """Build one variant; ValueError names the allowed family, shortcut or keyword arguments."""
    if family not in _BUILDERS:
        raise ValueError(f"unknown CNN family {family!r}: choose one of {', '.join(_BUILDERS)}")
    builder = _BUILDERS[family]
    allowed = [p for p in inspect.signature(builder).parameters if p != "shortcut"]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"{family} does not take {', '.join(unknown)}: "
                         f"its options are {', '.join(allowed)}")
    return builder(shortcut, **kwargs)
