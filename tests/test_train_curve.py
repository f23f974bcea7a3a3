"""bench.training.trainer, time to accuracy (issue #12): evaluation points, the curve, the clock
that excludes evaluation and compilation, stopping at the target, the options recorded."""

from __future__ import annotations

import dataclasses
import time

import pytest
import torch
from torch import nn

from bench.data import tensors
from bench.store.schema import Training
from bench.store.validate import check_record
from bench.training import trainer as train
from tests.test_train import _synthetic as synthetic

pytestmark = pytest.mark.usefixtures("one_thread")

# 96 images in batches of 8: 12 steps an epoch, evaluated after steps 3, 6, 9 and 12.
CONFIG = train.TrainConfig(epochs=2, batch_size=8, lr=0.05, evals_per_epoch=4,
                           eval_batch_size=20)


def _synthetic(n_train: int = 96, n_test: int = 40) -> tensors.Tensors:
    return synthetic(n_train, n_test, seed=7)


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 13 * 13, 10))


def _train(config: train.TrainConfig = CONFIG, model: nn.Module | None = None) -> Training:
    return train.train(model or _model(), _synthetic(), config, "cpu", model_name="tiny",
                       variant="conv")


@pytest.mark.parametrize(("steps", "evals", "expected"), [
    (12, 4, [3, 6, 9, 12]),
    (469, 4, [117, 234, 352, 469]),  # full MNIST at batch 128: the last batch is short
    (10, 1, [10]),
    (2, 4, [1, 2]),  # fewer steps than points: one point per step at most
])
def test_eval_points_split_the_epoch_evenly_and_end_it(steps, evals, expected):
    assert train.eval_points(steps, evals) == expected


@pytest.mark.parametrize(("steps", "evals", "left", "expected"), [
    (12, 4, 9, [3, 6, 9]),  # a cap on a point ends there
    (12, 4, 8, [3, 6, 8]),  # between points: evaluated where the run ends
    (469, 4, 352, [117, 234, 352]),  # 0.75 of full MNIST at batch 128
    (12, 4, 12, [3, 6, 9, 12]),
    (12, 4, 30, [3, 6, 9, 12]),  # later epochs left: the whole epoch
    (12, 4, 2, [2]),
])
def test_eval_points_end_where_a_fractional_cap_ends(steps, evals, left, expected):
    assert train.eval_points(steps, evals, left) == expected


@pytest.mark.parametrize(("epochs", "steps", "passes"), [
    (2, 24, 2), (0.75, 9, 1), (0.7, 8, 1), (1.5, 18, 2), (0.01, 1, 1),
    (1.01, 12, 1)])  # rounds to a whole epoch's steps: no second pass with no step in it
def test_a_fractional_cap_is_a_number_of_steps_and_of_passes(epochs, steps, passes):
    config = dataclasses.replace(CONFIG, epochs=epochs)  # 12 steps an epoch
    assert train.total_steps(config, 96) == steps
    assert train.passes(steps, 12) == passes


def test_a_fractional_cap_trains_part_of_a_pass_with_the_schedule_spanning_it(monkeypatch):
    seen = []
    factor = train.lr_factor

    def spy(schedule, step, total):
        seen.append((step, total))
        return factor(schedule, step, total)

    monkeypatch.setattr(train, "lr_factor", spy)
    record = _train(dataclasses.replace(CONFIG, epochs=1.5))  # 18 of 24 steps
    assert seen == [(step, 18) for step in range(18)]  # the schedule ends at the cap
    assert [p.images for p in record.curve] == [24, 48, 72, 96, 120, 144]
    assert [p.epoch for p in record.curve] == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    assert [e.fraction for e in record.epochs] == [1.0, 0.5]
    assert record.epochs[-1].test_acc == record.curve[-1].test_acc
    check_record(Training, record.as_dict(), "training[0]", "test")
    just_over = _train(dataclasses.replace(CONFIG, epochs=1.01))  # rounds to 12 steps
    assert [p.images for p in just_over.curve] == [24, 48, 72, 96]
    assert len(just_over.epochs) == 1
    short = _train(dataclasses.replace(CONFIG, epochs=0.7))  # 8 steps: points 3, 6, 8
    assert [p.images for p in short.curve] == [24, 48, 64]
    assert [e.fraction for e in short.epochs] == [pytest.approx(64 / 96)]


@pytest.mark.parametrize("epochs", [0, -1, float("nan"), float("inf"), "1"])
def test_a_cap_that_is_not_a_positive_number_is_refused(epochs):
    with pytest.raises(train.UsageError, match="epochs must be a positive number"):
        train.TrainConfig(epochs=epochs)


def test_the_curve_has_a_point_at_every_evaluation():
    record = _train()
    assert [p.images for p in record.curve] == [24, 48, 72, 96, 120, 144, 168, 192]
    assert [p.epoch for p in record.curve] == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    times = [p.time_s for p in record.curve]
    assert all(b > a > 0 for a, b in zip(times, times[1:], strict=False))
    assert all(0 <= p.test_acc <= 1 and p.train_loss > 0 for p in record.curve)
    # the epoch records agree with the curve: accuracy at the epoch's end, its training time
    assert [e.test_acc for e in record.epochs] == [record.curve[3].test_acc,
                                                   record.curve[7].test_acc]
    assert sum(e.time_s for e in record.epochs) == pytest.approx(times[-1])
    assert record.curve[-1].test_acc > 0.2  # it learnt something (chance is 0.1)
    check_record(Training, record.as_dict(), "training[0]", "test")


def test_the_loss_at_a_point_is_the_mean_since_the_previous_point():
    record = _train()
    epoch_1 = record.curve[:4]
    assert record.epochs[0].train_loss == pytest.approx(
        sum(p.train_loss for p in epoch_1) / 4, rel=1e-5)  # equal segments of 24 images


def test_evaluation_time_is_kept_off_the_training_clock(monkeypatch):
    slow_eval = 0.5
    evaluate = train.evaluate

    def slow(*args, **kwargs):
        time.sleep(slow_eval)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(train, "evaluate", slow)
    record = _train()
    assert record.eval_s >= 8 * slow_eval
    assert record.curve[-1].time_s < 4 * slow_eval  # 24 tiny steps; the sleeps sum to 8
    assert record.compile_s is None  # eager


def test_stop_at_target_ends_at_the_first_point_that_reaches_it():
    probe = _train()
    target = probe.curve[2].test_acc  # reached at 0.75 epochs at the latest
    first = next(i for i, p in enumerate(probe.curve) if p.test_acc >= target)
    config = dataclasses.replace(CONFIG, target_acc=target, stop_at_target=True)
    record = _train(config)
    assert len(record.curve) == first + 1 and record.reached_target
    assert [p.test_acc for p in record.curve] == [p.test_acc for p in probe.curve[:first + 1]]
    assert record.time_to_target_s == record.curve[-1].time_s
    assert record.epochs[-1].fraction == pytest.approx(record.curve[-1].epoch % 1 or 1.0)


def test_every_choice_is_recorded_in_options():
    config = dataclasses.replace(CONFIG, optimizer="adam", lr=0.01, weight_decay=0.0,
                                 grad_clip=1.0, schedule="cosine", seed=3, label_smoothing=0.1)
    options = _train(config).options
    assert options == {k: v for k, v in dataclasses.asdict(config).items() if k != "seed"}
    assert options["optimizer"] == "adam" and options["grad_clip"] == 1.0
    assert options["label_smoothing"] == 0.1


def test_label_smoothing_changes_the_loss_that_is_trained():
    plain, smoothed = _train(), _train(dataclasses.replace(CONFIG, label_smoothing=0.2))
    # the first point's loss is mostly the untrained model's: smoothed targets add their entropy
    assert smoothed.curve[0].train_loss != pytest.approx(plain.curve[0].train_loss, rel=1e-3)
    assert smoothed.options["label_smoothing"] == 0.2 and plain.options["label_smoothing"] == 0.0


@pytest.mark.parametrize("optimizer", train.OPTIMIZERS)
def test_every_optimizer_learns(optimizer):
    lr = {"sgd": 0.05, "adam": 0.003, "rmsprop": 0.001}[optimizer]
    config = dataclasses.replace(CONFIG, optimizer=optimizer, lr=lr, grad_clip=1.0)
    curve = _train(config).curve
    assert curve[-1].train_loss < curve[0].train_loss and curve[-1].test_acc > 0.2


def test_channels_last_trains_the_same_model():
    eager = _train()
    nhwc = _train(dataclasses.replace(CONFIG, channels_last=True))
    assert [p.test_acc for p in nhwc.curve] == [p.test_acc for p in eager.curve]
    for a, b in zip(nhwc.curve, eager.curve, strict=True):
        assert a.train_loss == pytest.approx(b.train_loss, rel=1e-4)
    assert nhwc.options["channels_last"] and not eager.options["channels_last"]


def test_an_entry_from_before_the_curve_still_validates():
    entry = _train().as_dict()
    for key in ("curve", "reached_target", "eval_s", "compile_s", "options"):
        del entry[key]
    for epoch in entry["epochs"]:
        del epoch["fraction"]
    check_record(Training, entry, "training[0]", "test")  # older files: no curve, no options
