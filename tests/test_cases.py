"""bench.timing.cases: a profile and the registries turned into timed cases and training runs."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import pytest
import torch

from bench.timing import cases
from bench.timing.profiles import MNIST_SHAPE, PROFILES, TrainSpec
from implementations import cnn, rnn

CPU = torch.device("cpu")
MNIST_TAG = "b64-t28-i28-h128-l1-uni"


@dataclass(frozen=True)
class FakeStyle:
    """What bench.timing.cases reads of a registry's StyleInfo."""

    name: str
    devices: tuple[str, ...]


@pytest.fixture
def fake_rnn(monkeypatch):
    """A registry of four styles: two run here, one is CUDA-only, one claims the CPU but the
    registry does not offer it here (say, a missing optional dependency)."""
    infos = [FakeStyle("alpha", ("cpu", "cuda")), FakeStyle("beta", ("cpu", "cuda")),
             FakeStyle("gpuonly", ("cuda",)), FakeStyle("broken", ("cpu", "cuda"))]
    monkeypatch.setattr(rnn, "describe", lambda: list(infos))
    monkeypatch.setattr(rnn, "styles", lambda device=None, cell="rnn", here=True: ["alpha", "beta"])
    return infos


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES)
def test_case_names_are_unique_and_identify_the_case(profile):
    planned = cases.all_cases(profile, CPU)
    names = [c.name for c in planned]
    assert len(names) == len(set(names)), "two cases share a name"
    identities = {(c.implementation, tuple(sorted(c.params.items()))) for c in planned}
    assert len(identities) == len(planned), "two cases measure the same thing"
    for case in planned:
        lead = case.params.get("cell", case.kind)  # RNN cases lead with their cell
        assert case.name.startswith(f"{lead}/{case.implementation}/{case.params['pass']}/")
        assert case.device == "cpu" and case.group == case.groups[0]
        assert len(set(case.groups)) == len(case.groups)


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES)
def test_every_registered_style_and_pass_is_planned_at_the_mnist_shape(profile):
    mnist = [c for c in cases.rnn_cases(profile, CPU) if "rnn" in c.groups]
    expected = {(info.name, p) for info in rnn.describe() for p in profile.rnn_passes}
    assert {(c.implementation, c.params["pass"]) for c in mnist} == expected
    assert len(mnist) == len(expected)
    for case in mnist:
        assert case.name == f"rnn/{case.implementation}/{case.params['pass']}/{MNIST_TAG}"
        assert case.params == {"pass": case.params["pass"], **asdict(MNIST_SHAPE)}


def test_cuda_only_styles_are_skipped_on_cpu_with_a_reason():
    planned = cases.rnn_cases(PROFILES["smoke"], CPU)
    runnable = rnn.styles(CPU)
    for info in rnn.describe():
        reasons = {c.skip_reason for c in planned if c.implementation == info.name}
        sitouts = {why for _, style, why in PROFILES["smoke"].rnn_sitouts if style == info.name}
        if info.name in runnable:
            assert None in reasons  # timed for the vanilla RNN at least
            assert {r for r in reasons if r} == {f"{info.name} sits out in this profile: {why}"
                                                  for why in sitouts}
        else:
            assert "cpu" not in info.devices  # the real registry offers every CPU style here
            assert reasons == {f"{info.name} runs only on {', '.join(info.devices)}"}


def test_skip_reasons_tell_cuda_only_from_unavailable_here(fake_rnn):
    planned = cases.rnn_cases(PROFILES["smoke"], CPU)
    reason = {c.implementation: c.skip_reason for c in planned if "rnn" in c.groups}
    assert reason == {"alpha": None, "beta": None, "gpuonly": "gpuonly runs only on cuda",
                      "broken": "broken cannot run on cpu here"}


def test_sweeps_vary_one_field_forward_only_for_runnable_styles(fake_rnn):
    profile = dataclasses.replace(PROFILES["quick"], rnn_cells=("rnn",),
                                  rnn_sweeps={"seq_len": (7, 56), "hidden_size": (32,)})
    swept = [c for c in cases.rnn_cases(profile, CPU) if "rnn" not in c.groups]
    assert [(c.group, c.implementation, c.params["seq_len"], c.params["hidden_size"])
            for c in swept] == [
        ("rnn-seq_len", "alpha", 7, 128), ("rnn-seq_len", "alpha", 56, 128),
        ("rnn-seq_len", "beta", 7, 128), ("rnn-seq_len", "beta", 56, 128),
        ("rnn-hidden_size", "alpha", 28, 32), ("rnn-hidden_size", "beta", 28, 32)]
    assert all(c.params["pass"] == "forward" and c.skip_reason is None for c in swept)
    assert swept[1].name == "rnn/alpha/forward/b64-t56-i28-h128-l1-uni"


def test_a_sweep_point_at_the_mnist_shape_is_the_main_case_shown_in_both(fake_rnn):
    profile = dataclasses.replace(PROFILES["quick"], rnn_cells=("rnn",),
                                  rnn_sweeps={"seq_len": (14, 28), "hidden_size": (128,)})
    planned = cases.rnn_cases(profile, CPU)
    by_name = {c.name: c for c in planned}
    assert len(by_name) == len(planned)
    main = by_name[f"rnn/alpha/forward/{MNIST_TAG}"]
    assert main.groups == ("rnn", "rnn-seq_len", "rnn-hidden_size")
    assert by_name[f"rnn/alpha/forward_backward/{MNIST_TAG}"].groups == ("rnn",)
    assert by_name["rnn/beta/forward/b64-t14-i28-h128-l1-uni"].groups == ("rnn-seq_len",)
    # 4 styles x 2 passes at the MNIST shape, plus one seq_len 14 point per runnable style
    assert len(planned) == 4 * 2 + 2


def test_sweep_styles_are_restricted_to_the_runnable_ones(fake_rnn):
    profile = dataclasses.replace(PROFILES["quick"], rnn_sweeps={"batch": (1, 16)},
                                  rnn_sweep_styles=("beta", "gpuonly", "broken"))
    swept = [c for c in cases.rnn_cases(profile, CPU) if "rnn-batch" in c.groups]
    assert [(c.implementation, c.params["batch"]) for c in swept] == [("beta", 1), ("beta", 16)]
    assert [c.name for c in swept] == ["rnn/beta/forward/b1-t28-i28-h128-l1-uni",
                                       "rnn/beta/forward/b16-t28-i28-h128-l1-uni"]


def test_quick_sweeps_seq_len_for_every_cpu_style():
    profile = PROFILES["quick"]
    swept = [c for c in cases.rnn_cases(profile, CPU) if "rnn-seq_len" in c.groups]
    values = profile.rnn_sweeps["seq_len"]
    assert {c.implementation for c in swept} == set(rnn.styles(CPU))
    for style in rnn.styles(CPU):
        assert sorted(c.params["seq_len"] for c in swept if c.implementation == style) == sorted(
            values)


def test_cnn_cases_name_family_shortcut_pass_and_batch():
    smoke = PROFILES["smoke"]
    planned = cases.cnn_cases(smoke, CPU)
    assert len(planned) == len(smoke.cnn_variants) * len(smoke.cnn_passes)
    case = planned[0]
    family, shortcut = smoke.cnn_variants[0]
    assert case.name == f"cnn/{family}/{shortcut}/{smoke.cnn_passes[0]}/b{smoke.cnn_batch}"
    assert (case.groups, case.kind, case.implementation) == (("cnn",), "cnn",
                                                             f"{family}/{shortcut}")
    assert case.params == {"pass": smoke.cnn_passes[0], "batch": smoke.cnn_batch,
                           "family": family, "shortcut": shortcut}


def test_all_cnn_variants_when_the_profile_names_none():
    quick = PROFILES["quick"]
    assert quick.cnn_variants is None
    planned = cases.cnn_cases(quick, CPU)
    assert {(c.params["family"], c.params["shortcut"]) for c in planned} == set(cnn.variants())
    assert len(planned) == len(cnn.variants()) * len(quick.cnn_passes)


def test_train_cases_offset_seeds_and_name_them():
    spec = TrainSpec("cnn", "resnet", "projection", 1, 100, seeds=(0, 2))
    profile = dataclasses.replace(PROFILES["smoke"], train=(spec,))
    planned = cases.train_cases(profile, CPU, base_seed=5)
    assert [(c.name, c.seed, c.device) for c in planned] == [
        ("train/resnet/projection/seed5", 5, "cpu"), ("train/resnet/projection/seed7", 7, "cpu")]
    assert all(c.spec is spec for c in planned)


def test_a_cnn_spec_without_model_trains_every_registered_variant():
    spec = TrainSpec("cnn", None, None, 2, 300, seeds=(0, 1), lr=0.1)
    rnn_spec = TrainSpec("rnn", "rnn-classifier", "native", 1, None)
    profile = dataclasses.replace(PROFILES["smoke"], train=(spec, rnn_spec))
    planned = cases.train_cases(profile, CPU, base_seed=0)
    cnn_runs = [c for c in planned if c.spec.kind == "cnn"]
    assert [(c.spec.model, c.spec.variant, c.seed) for c in cnn_runs] == [
        (f, s, seed) for f, s in cnn.variants() for seed in (0, 1)]
    assert all(dataclasses.replace(c.spec, model=None, variant=None) == spec for c in cnn_runs)
    assert planned[-1].name == "train/rnn-classifier/native/seed0"


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES)
def test_train_case_names_are_unique_and_never_unexpanded(profile):
    names = [c.name for c in cases.train_cases(profile, CPU, base_seed=0)]
    assert names and len(names) == len(set(names))
    assert not any("/None/" in name for name in names)


@pytest.mark.parametrize("profile", [p for p in PROFILES.values() if p.rnn_passes],
                         ids=lambda p: p.name)
def test_every_cell_has_its_own_main_group(profile):
    planned = cases.rnn_cases(profile, CPU)
    for cell in profile.rnn_cells:
        group = [c for c in planned if cell in c.groups]
        assert {c.params["cell"] for c in group} == {cell}
        assert {(c.implementation, c.params["pass"]) for c in group} == {
            (info.name, p) for info in rnn.describe() for p in profile.rnn_passes}
        assert all(c.name.startswith(f"{cell}/") for c in group)


def test_the_fastrnns_shape_leaves_bmm_out_with_the_reason():
    large = [c for c in cases.rnn_cases(PROFILES["full"], CPU) if "lstm-large" in c.groups]
    assert {c.params["seq_len"] for c in large} == {100}
    [bmm] = {c.skip_reason for c in large if c.implementation == "bmm"}
    assert "25 GB" in bmm
    assert all(c.skip_reason is None for c in large if c.implementation in ("loop", "native"))


def test_a_cuda_plan_lists_the_cuda_styles_on_a_machine_without_one():
    """A GPU run's directory is finished (--resume) on any machine: its plan, rebuilt there,
    must hold the CUDA-only styles the GPU timed, whether or not this machine has a GPU."""
    planned = {c.implementation for c in cases.rnn_cases(PROFILES["quick"], torch.device("cuda"))
               if not c.skip_reason}
    assert {"compile-cudagraphs", "native-nocudnn"} <= planned
    assert planned == set(rnn.styles("cuda", here=False))
    assert not {"compile-cudagraphs", "native-nocudnn"} & set(rnn.styles("cpu", here=False))
