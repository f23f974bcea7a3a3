"""bench.training.trainer: schedules, config checks, determinism, the record's shape, learning.

Evaluation points, the curve and stopping at the target: tests/test_train_curve.py.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from bench.data import sources, tensors
from bench.errors import UsageError
from bench.training import trainer as train

ENTRY_KEYS = {"name", "model", "variant", "device", "seed", "params_count", "flops", "epochs",
              "time_to_target_s", "target_acc", "train_images", "test_images", "images_per_s",
              "status", "error", "curve", "reached_target", "eval_s", "compile_s", "options"}
EPOCH_KEYS = {"epoch", "time_s", "train_loss", "test_acc", "fraction"}


def _synthetic(n_train: int = 96, n_test: int = 40, seed: int = 123) -> tensors.Tensors:
    """Images whose class is written in their mean brightness: learnable in a few steps."""
    g = torch.Generator().manual_seed(seed)

    def make(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.arange(n) % 10  # (n,)
        x = torch.randn(n, 1, 28, 28, generator=g) * 0.5 + (y.float() / 5 - 1).view(n, 1, 1, 1)
        return x, y

    return tensors.Tensors(*make(n_train), *make(n_test))


def _tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(),
                         nn.Dropout(0.1), nn.Linear(4 * 13 * 13, 10))


def _small_cnn() -> nn.Module:
    """Two strided convs: ~90 % on the bundled subset in two epochs, ~1 s on one core."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, stride=2), nn.ReLU(),  # (N, 8, 13, 13)
                         nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(),  # (N, 16, 6, 6)
                         nn.Flatten(), nn.Linear(16 * 6 * 6, 10))


pytestmark = pytest.mark.usefixtures("one_thread")


FAST = train.TrainConfig(epochs=2, batch_size=32, lr=0.05, eval_batch_size=16)


@pytest.mark.parametrize("schedule", train.SCHEDULES)
def test_schedules_start_peak_and_end_where_they_should(schedule):
    total = 1000
    factors = [train.lr_factor(schedule, s, total) for s in range(total)]
    assert all(0 <= f <= 1 for f in factors)
    assert max(factors) == pytest.approx(1.0, abs=1e-2)
    expected_first = {"onecycle": train.WARMUP_START, "cosine": 1.0, "step": 1.0, "constant": 1.0}
    assert factors[0] == pytest.approx(expected_first[schedule])
    expected_last = {"onecycle": 0.0, "cosine": 0.0, "step": 0.01, "constant": 1.0}
    assert factors[-1] == pytest.approx(expected_last[schedule], abs=1e-4)


def test_onecycle_peaks_at_the_end_of_warmup():
    total = 400
    peak = max(range(total), key=lambda s: train.lr_factor("onecycle", s, total))
    assert peak == math.ceil(total * train.WARMUP_FRACTION)


@pytest.mark.parametrize(("changes", "words"), [
    ({"schedule": "linear"}, "onecycle, cosine, step, constant"),
    ({"optimizer": "lbfgs"}, "sgd, adam, rmsprop"),
    ({"evals_per_epoch": 0}, "evals_per_epoch must be a positive integer"),
    ({"grad_clip": 0.0}, "grad_clip must be a positive norm"),
    ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
    ({"label_smoothing": -0.1}, r"label_smoothing must be in \[0, 1\)"),
    ({"epochs": 0}, "epochs must be a positive number"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"train_limit": 0}, "train_limit must be a positive number"),
    ({"test_limit": 0}, "test_limit must be a positive number"),
    ({"precise_bn": -1}, "precise_bn must be a number of images >= 0"),
])
def test_bad_config_is_a_usage_error(changes, words):
    with pytest.raises(UsageError, match=words):
        dataclasses.replace(FAST, **changes)


def test_same_seed_same_run_on_cpu():
    runs = [train.train(_tiny_model(), _synthetic(), FAST, "cpu") for _ in range(2)]
    losses = [[e.train_loss for e in r.epochs] for r in runs]
    accs = [[e.test_acc for e in r.epochs] for r in runs]
    assert losses[0] == losses[1] and accs[0] == accs[1]
    other = train.train(_tiny_model(), _synthetic(), dataclasses.replace(FAST, seed=1), "cpu")
    assert [e.train_loss for e in other.epochs] != losses[0]  # the seed drives the shuffling


def test_record_is_the_results_training_entry():
    record = train.train(_tiny_model(), _synthetic(), FAST, "cpu", model_name="tiny",
                         variant="conv")
    entry = record.as_dict()
    assert set(entry) == ENTRY_KEYS
    assert [set(e) for e in entry["epochs"]] == [EPOCH_KEYS] * 2
    assert [e["epoch"] for e in entry["epochs"]] == [1, 2]
    assert (entry["model"], entry["variant"], entry["device"]) == ("tiny", "conv", "cpu")
    assert entry["status"] == "ok" and entry["error"] is None
    assert entry["train_images"] == 96 and entry["test_images"] == 40
    assert entry["params_count"] == sum(p.numel() for p in _tiny_model().parameters())
    assert entry["flops"] > 0 and entry["images_per_s"] > 0
    assert all(e["time_s"] > 0 and 0 <= e["test_acc"] <= 1 and e["train_loss"] > 0
               for e in entry["epochs"])
    total = sum(e["time_s"] for e in entry["epochs"])
    assert entry["images_per_s"] == pytest.approx(96 * 2 / total)


def test_time_to_target_and_early_stop():
    easy = dataclasses.replace(FAST, epochs=3, target_acc=0.0)
    record = train.train(_tiny_model(), _synthetic(), easy, "cpu")
    assert record.time_to_target_s == pytest.approx(record.curve[0].time_s)
    assert record.reached_target and len(record.epochs) == 3
    stopped = train.train(_tiny_model(), _synthetic(),
                          dataclasses.replace(easy, stop_at_target=True), "cpu")
    assert len(stopped.epochs) == 1 and len(stopped.curve) == 1
    never = train.train(_tiny_model(), _synthetic(),
                        dataclasses.replace(FAST, target_acc=1.01), "cpu")
    assert never.time_to_target_s is None and not never.reached_target


def test_train_limit_uses_a_balanced_subset():
    record = train.train(_tiny_model(), _synthetic(), dataclasses.replace(FAST, train_limit=50),
                         "cpu")
    assert record.train_images == 50


def test_progress_gets_short_status_lines():
    lines: list[str] = []
    train.train(_tiny_model(), _synthetic(), FAST, "cpu", progress=lines.append)
    assert lines and all(isinstance(s, str) and "\n" not in s for s in lines)
    assert any(s.startswith("epoch 1/2  step 1/3  loss ") for s in lines)
    assert lines[-1].startswith("epoch 2/2  at 2.00 epochs  test acc ")


@pytest.mark.parametrize(("interval_s", "expected_step_lines"), [(0.0, 24), (3600.0, 1)])
def test_progress_is_rate_limited(monkeypatch, interval_s, expected_step_lines):
    monkeypatch.setattr(train, "PROGRESS_INTERVAL_S", interval_s)
    lines: list[str] = []
    config = dataclasses.replace(FAST, epochs=1, batch_size=4)  # 96 images: 24 steps
    train.train(_tiny_model(), _synthetic(), config, "cpu", progress=lines.append)
    assert len([s for s in lines if " step " in s]) == expected_step_lines


def test_learns_on_the_bundled_subset(monkeypatch, tmp_path):
    """The offline quick-start path: no data dir, no cache, no network -> the bundled subset."""
    monkeypatch.setenv("MNISTBENCH_OFFLINE", "1")
    monkeypatch.delenv("MNISTBENCH_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ds = sources.load()
    assert ds.source == "bundled" and ds.subset
    config = train.TrainConfig(epochs=2, batch_size=32, lr=0.1, seed=0)
    record = train.train(_small_cnn(), tensors.to_tensors(ds, "cpu"), config, "cpu")
    assert record.test_images == len(ds.test_labels)
    assert record.epochs[-1].test_acc > 0.8  # chance is 0.1
    assert record.epochs[-1].train_loss < record.epochs[0].train_loss


def test_test_limit_evaluates_a_balanced_subset_of_the_test_set():
    data = _synthetic(n_test=40)
    record = train.train(_tiny_model(), data, dataclasses.replace(FAST, test_limit=20), "cpu")
    assert record.test_images == 20
    model = _tiny_model()
    trained = train.train(model, data, dataclasses.replace(FAST, test_limit=20), "cpu")
    keep = tensors.select_balanced(data.y_test, 20)
    assert torch.bincount(data.y_test[keep]).tolist() == [2] * 10
    expected = train.evaluate(model, data.x_test[keep], data.y_test[keep], 16)
    assert trained.epochs[-1].test_acc == expected  # the last evaluation, on those 20 images
    assert train.train(_tiny_model(), data, dataclasses.replace(FAST, test_limit=500),
                       "cpu").test_images == 40  # a limit above the set's size: all of it


def _bn_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.BatchNorm2d(4, momentum=0.3),
                         nn.ReLU(), nn.Flatten(), nn.Linear(4 * 13 * 13, 10))


def test_precise_bn_sets_running_stats_to_the_average_of_batch_stats():
    model, x = _bn_model(), _synthetic().x_train[:64]
    weights = {k: v.clone() for k, v in model.state_dict().items()
               if "running" not in k and "num_batches" not in k}
    model.eval()
    train.recompute_bn_stats(model, x, images=48, batch_size=16)  # 3 batches of 16
    bn = model[1]
    with torch.no_grad():
        acts = model[0](x[:48])  # (48, 4, 13, 13)
    batch_means = acts.view(3, 16, 4, -1).mean(dim=(1, 3))  # (3, 4)
    torch.testing.assert_close(bn.running_mean, batch_means.mean(0))
    batch_vars = acts.view(3, 16, 4, -1).transpose(1, 2).reshape(3, 4, -1).var(dim=2)  # unbiased
    torch.testing.assert_close(bn.running_var, batch_vars.mean(0))
    assert bn.momentum == 0.3 and model.training and int(bn.num_batches_tracked) == 3
    for k, v in model.state_dict().items():
        if k in weights:
            assert torch.equal(v, weights[k]), k


def test_precise_bn_runs_before_each_evaluation_and_only_when_asked(monkeypatch):
    calls = []
    real = train.recompute_bn_stats
    monkeypatch.setattr(train, "recompute_bn_stats",
                        lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    config = dataclasses.replace(FAST, evals_per_epoch=2)
    train.train(_bn_model(), _synthetic(), config, "cpu")
    assert calls == []
    record = train.train(_bn_model(), _synthetic(), dataclasses.replace(config, precise_bn=64),
                         "cpu")
    assert calls == [64] * len(record.curve) == [64] * 4
    assert record.options["precise_bn"] == 64
