"""Turns a profile into the timed cases and training runs of one `mnistbench run`.

The implementation names come from the registries (`implementations.rnn.describe()`,
`implementations.cnn.variants()`), so a style added there is timed, listed and reported without
touching this file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch

from bench.timing.profiles import MNIST_SHAPE, Profile, RnnShape, TrainSpec


@dataclass(frozen=True)
class Case:
    """One timed case. `name` encodes what identifies it: the implementation and every
    parameter, never the group, so a sweep point equal to the main case is the same case."""

    name: str
    groups: tuple[str, ...]  # where it is shown: "rnn" | "rnn-<swept field>" | "cnn"
    kind: str  # "rnn" | "cnn"
    implementation: str  # RNN style, or "family/shortcut"
    device: str
    params: dict = field(hash=False)
    skip_reason: str | None = None

    @property
    def group(self) -> str:
        return self.groups[0]


def _shape_tag(shape: RnnShape) -> str:
    direction = "bi" if shape.bidirectional else "uni"
    return (f"b{shape.batch}-t{shape.seq_len}-i{shape.input_size}-h{shape.hidden_size}"
            f"-l{shape.num_layers}-{direction}")


def _rnn_case(group: str, style: str, pass_: str, shape: RnnShape, device: str,
              skip_reason: str | None) -> Case:
    """A case named cell/style/pass/shape ("lstm/bptt/forward/b64-t28-..."): the vanilla RNN
    keeps the names of schema-1 runs ("rnn/..."), so old runs still compare."""
    params = {"pass": pass_, **asdict(shape)}
    name = f"{shape.cell}/{style}/{pass_}/{_shape_tag(shape)}"
    return Case(name, (group,), "rnn", style, device, params, skip_reason)


def _merged(cases: list[Case]) -> list[Case]:
    """One case per name, in first-seen order, shown in every group that asked for it."""
    by_name: dict[str, Case] = {}
    for case in cases:
        seen = by_name.get(case.name)
        by_name[case.name] = case if seen is None else replace(
            seen, groups=seen.groups + tuple(g for g in case.groups if g not in seen.groups))
    return list(by_name.values())


def _skip_reason(info, device: torch.device, runnable: list[str]) -> str | None:
    if info.name in runnable:
        return None
    if device.type not in info.devices:
        return f"{info.name} runs only on {', '.join(info.devices)}"
    return f"{info.name} cannot run on {device.type} here"


def rnn_cases(profile: Profile, device: torch.device) -> list[Case]:
    """Every registered style × pass at the MNIST shape for each of the profile's cells, its
    extra shapes, then its sweeps (of the vanilla RNN). The main group of a cell is named after
    it: "rnn", "lstm", "gru"."""
    from implementations import rnn

    # the device was checked before planning (bench.system.device.resolve_device); a finished
    # run's plan is also rebuilt where that device is absent (bench.run.runner.finish)
    runnable = rnn.styles(device, here=False)
    sitouts = {(cell, style): why for cell, style, why in profile.rnn_sitouts}
    cases = []
    for cell in profile.rnn_cells:
        shape = replace(MNIST_SHAPE, cell=cell)
        for info in rnn.describe():
            reason = _skip_reason(info, device, runnable) or (
                f"{info.name} sits out in this profile: {sitouts[cell, info.name]}"
                if (cell, info.name) in sitouts else None)
            for pass_ in profile.rnn_passes:
                cases.append(_rnn_case(cell, info.name, pass_, shape, device.type, reason))
    for shape, left_out, why in profile.rnn_extra_shapes:
        for info in rnn.describe():
            reason = _skip_reason(info, device, runnable) or (
                f"{info.name} sits out at this shape: {why}" if info.name in left_out else None)
            for pass_ in profile.rnn_passes:
                cases.append(_rnn_case(f"{shape.cell}-large", info.name, pass_, shape,
                                       device.type, reason))
    sweep_styles = tuple(runnable) if profile.rnn_sweep_styles is None else profile.rnn_sweep_styles
    for field_name, values in profile.rnn_sweeps.items():
        for style in sweep_styles:
            if style not in runnable:
                continue
            for value in values:
                shape = replace(MNIST_SHAPE, **{field_name: value})
                cases.append(_rnn_case(f"rnn-{field_name}", style, "forward", shape,
                                       device.type, None))
    return _merged(cases)


def cnn_cases(profile: Profile, device: torch.device) -> list[Case]:
    """The profile's CNN variants × passes at the profile's batch size."""
    from implementations import cnn

    variants = profile.cnn_variants or tuple(cnn.variants())
    cases = []
    for family, shortcut in variants:
        for pass_ in profile.cnn_passes:
            params = {"pass": pass_, "batch": profile.cnn_batch, "family": family,
                      "shortcut": shortcut}
            name = f"cnn/{family}/{shortcut}/{pass_}/b{profile.cnn_batch}"
            cases.append(Case(name, ("cnn",), "cnn", f"{family}/{shortcut}", device.type,
                              params))
    return cases


def all_cases(profile: Profile, device: torch.device) -> list[Case]:
    return rnn_cases(profile, device) + cnn_cases(profile, device)


@dataclass(frozen=True)
class TrainCase:
    """One training run of one seed."""

    name: str
    spec: TrainSpec
    seed: int
    device: str


def train_cases(profile: Profile, device: torch.device, base_seed: int) -> list[TrainCase]:
    """Every training run of the profile, one per spec and seed (seeds offset by --seed)."""
    cases = []
    for spec in _expanded(profile.train, device):
        for seed in spec.seeds:
            run_seed = base_seed + seed
            name = f"train/{spec.model}/{spec.variant}/seed{run_seed}"
            cases.append(TrainCase(name, spec, run_seed, device.type))
    return cases


def _expanded(specs: tuple[TrainSpec, ...], device: torch.device) -> list[TrainSpec]:
    """The specs with a CNN spec for every variant (model None) replaced by one per variant, and
    an RNN classifier spec for every style (variant None) by one per style runnable on `device`."""
    from implementations import cnn, rnn

    out = []
    for spec in specs:
        if spec.kind == "cnn" and spec.model is None:
            out.extend(replace(spec, model=f, variant=s) for f, s in cnn.variants())
        elif spec.kind == "rnn" and spec.variant is None:
            out.extend(replace(spec, variant=style) for style in rnn.styles(device, here=False))
        else:
            out.append(spec)
    return out
