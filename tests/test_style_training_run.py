"""One short real training of the RNN classifier in two styles on the bundled MNIST subset: from
the same start and seed, their accuracy curves agree at every point (the styles compute the same
function; float rounding is all that differs), and the report's analysis says so."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from bench.data.sources import load
from bench.data.tensors import to_tensors
from bench.timing.cases import TrainCase
from bench.timing.profiles import PROFILES, RNN_CLASSIFIER, RNN_STYLES_MODEL, TrainSpec
from bench.training import runs
from reports import style_training

pytestmark = pytest.mark.usefixtures("one_thread")
SUBSET = Path(runs.__file__).parents[1] / "data" / "assets" / "mnist-subset"
# two epochs of the subset's 2000 training images, evaluated every half epoch
SPEC = TrainSpec("rnn", RNN_STYLES_MODEL, None, 2, None, batch_size=64, lr=0.005,
                 trainer=RNN_CLASSIFIER + (("evals_per_epoch", 2),))


def test_two_styles_trained_from_one_start_have_the_same_curve():
    tensors = to_tensors(load(data_dir=SUBSET), "cpu")
    records = []
    for style in ("native", "premul"):
        tc = TrainCase(f"train/{RNN_STYLES_MODEL}/{style}/seed0",
                       dataclasses.replace(SPEC, variant=style), 0, "cpu")
        records.append(runs.train_one(tc, PROFILES["quick"], tensors, torch.device("cpu"),
                                      lambda _: None).as_dict())
    run = type("Run", (), {"data": {"training": records}})()
    (s,) = style_training.style_sets(run)
    gaps = s.gaps()
    assert [g.images for g in gaps] == [1024, 2000, 3024, 4000]
    assert gaps[-1].high > 0.5  # it learned (chance is 0.1): the agreement is not trivial
    # one test image of the subset is 1 / test_images; allow two images of rounding drift
    assert s.largest_gap().gap <= 2 / s.test_images
    assert all(r.train_s > 0 and r.images_per_s > 0 for r in s.runs)
