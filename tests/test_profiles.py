"""bench.timing.profiles: every profile is sane, and they grow smoke -> quick -> full."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from bench.errors import UsageError
from bench.timing import cases
from bench.timing.profiles import DEFAULT_PROFILE, MNIST_SHAPE, PROFILES, RnnShape, get_profile
from bench.timing.stats import MIN_REPETITIONS
from implementations import cnn, rnn

PASSES = {"forward", "forward_backward"}
CNN_PASSES = {"inference", "train_step"}
SHAPE_FIELDS = {f.name for f in dataclasses.fields(RnnShape)}
ORDER = ("smoke", "quick", "full")
ALL = pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES)


def test_the_profiles_are_smoke_quick_full_then_the_study_and_the_default_is_one():
    assert tuple(PROFILES)[:3] == ORDER and "shortcuts" in PROFILES
    assert DEFAULT_PROFILE in PROFILES
    assert all(PROFILES[name].name == name for name in PROFILES)


@ALL
def test_timing_fields_are_sane(profile):
    assert set(profile.rnn_passes) <= PASSES  # the study profile times CNNs only
    assert bool(profile.rnn_passes) == bool(profile.rnn_cells)
    assert set(profile.rnn_cells) <= set(rnn.CELLS)
    assert profile.cnn_passes and set(profile.cnn_passes) <= CNN_PASSES
    assert profile.cnn_batch > 0 and profile.max_time_s > 0 and profile.warmup_rounds >= 1
    # a median and an IQR of fewer rounds a repetition mean little; passes spread them out, and
    # a verdict resamples the passes of every repetition, so a case needs a dozen over the run
    assert profile.blocks >= 2 and profile.min_rounds >= 1
    assert profile.blocks * profile.min_rounds >= 5
    assert profile.repetitions * profile.blocks * profile.min_rounds >= 12
    assert profile.case_budget_s > profile.max_time_s
    # a comparison draws no verdict from fewer repetitions (bench.timing.stats)
    assert profile.repetitions >= MIN_REPETITIONS
    assert 0 < profile.target_acc <= 1
    assert profile.summary.strip()


@ALL
def test_sweeps_vary_a_shape_field_over_sorted_positive_values_through_mnist(profile):
    for field, values in profile.rnn_sweeps.items():
        assert field in SHAPE_FIELDS - {"bidirectional"}, field
        assert list(values) == sorted(set(values)) and values[0] > 0, (field, values)
        # the sweep passes through the MNIST shape, so the charts line up with the main table
        assert getattr(MNIST_SHAPE, field) in values, field


@ALL
def test_named_styles_and_variants_are_registered(profile):
    if profile.rnn_sweep_styles is not None:
        assert set(profile.rnn_sweep_styles) <= {i.name for i in rnn.describe()}
    if profile.cnn_variants is not None:
        assert len(set(profile.cnn_variants)) == len(profile.cnn_variants)
        assert set(profile.cnn_variants) <= set(cnn.variants())


@ALL
def test_training_specs_are_sane(profile):
    assert profile.train
    for spec in profile.train:
        assert spec.epochs > 0 and spec.batch_size > 0
        assert spec.train_limit is None or spec.train_limit >= spec.batch_size
        assert spec.seeds and len(set(spec.seeds)) == len(spec.seeds) and min(spec.seeds) >= 0
        assert spec.lr is None or spec.lr > 0
        if spec.kind == "cnn":
            assert (spec.model is None) == (spec.variant is None), spec
            assert spec.model is None or (spec.model, spec.variant) in cnn.variants()
        else:
            # rnn-classifier-styles: the every-style runs (issue 13), named apart
            assert spec.kind == "rnn" and spec.model in {"rnn-classifier",
                                                          "rnn-classifier-styles"}
            # None: every style that runs on the run's device (bench.timing.cases)
            assert spec.variant is None or spec.variant in {
                i.name for i in rnn.describe() if "cpu" in i.devices}


def test_unknown_profile_names_the_valid_ones():
    with pytest.raises(UsageError, match="unknown profile 'huge': choose one of smoke, quick, "
                                         "full"):
        get_profile("huge")
    assert get_profile("quick") is PROFILES["quick"]


def _names(profile_name: str) -> set[str]:
    profile = PROFILES[profile_name]
    cpu = torch.device("cpu")
    return ({c.name for c in cases.all_cases(profile, cpu)}
            | {c.name for c in cases.train_cases(profile, cpu, base_seed=0)})


def test_smoke_is_a_subset_of_quick():
    """Everything smoke times or trains, quick does too: a smoke run is a short quick run."""
    assert _names("smoke") < _names("quick")


@pytest.mark.parametrize("small, big", [("smoke", "quick"), ("quick", "full")])
def test_each_profile_measures_at_least_as_much_as_the_one_before(small, big):
    a, b = PROFILES[small], PROFILES[big]
    assert set(a.rnn_passes) <= set(b.rnn_passes)
    for field, values in a.rnn_sweeps.items():
        assert set(values) <= set(b.rnn_sweeps.get(field, ())), field
    # the timed budget of a case: repetitions x passes x the time of a pass
    assert (a.repetitions * a.blocks * a.max_time_s <= b.repetitions * b.blocks * b.max_time_s)
    assert a.warmup_rounds <= b.warmup_rounds and a.repetitions <= b.repetitions
    epochs = [s.epochs for s in a.train], [s.epochs for s in b.train]
    assert max(epochs[0]) <= max(epochs[1])
