"""bench.training.runs and the training specs of the profiles: every spec makes a valid trainer
config, the `shortcuts` study is what issue #12 asks for, and a run interrupted in the middle of
a seed keeps every finished seed and trains only the rest when resumed."""

from __future__ import annotations

import dataclasses
import io

import pytest
import torch

from bench.data import sources
from bench.run.progress import Progress
from bench.timing import cases
from bench.timing.profiles import PROFILES, TrainSpec
from bench.training import runs
from bench.training.trainer import TrainConfig
from implementations import cnn

pytestmark = pytest.mark.usefixtures("one_thread")
CPU = torch.device("cpu")


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES)
def test_every_training_spec_makes_a_valid_trainer_config(profile):
    for tc in cases.train_cases(profile, CPU, 0):
        config = runs.train_config(tc, profile)
        assert isinstance(config, TrainConfig) and config.seed == tc.seed
        # the profile's target, unless the spec's trainer sets its own (scaling's RNN)
        assert config.target_acc == dict(tc.spec.trainer).get("target_acc", profile.target_acc)


def test_the_shortcuts_study_trains_every_cnn_variant_to_99_with_5_seeds():
    study = PROFILES["shortcuts"]
    trains = cases.train_cases(study, CPU, 0)
    cnn_runs = [tc for tc in trains if tc.spec.kind == "cnn"]
    by_variant = {(tc.spec.model, tc.spec.variant) for tc in cnn_runs}
    assert by_variant == set(cnn.variants())
    assert len(cnn_runs) == len(by_variant) * len(set(tc.seed for tc in cnn_runs))
    assert len({tc.seed for tc in cnn_runs}) >= 5
    configs = [runs.train_config(tc, study) for tc in cnn_runs]
    assert all(c.stop_at_target and c.train_limit is None for c in configs)
    assert study.target_acc == 0.99
    # one trainer for every variant: the options differ in nothing (the seed is not an option)
    assert len({tuple(sorted(c.options().items())) for c in configs}) == 1
    assert any(tc.spec.model == "rnn-classifier" for tc in trains)
    assert set(trains) <= set(cases.train_cases(PROFILES["full"], CPU, 0))  # full includes it


def test_quick_keeps_its_short_training():
    quick = PROFILES["quick"]
    for tc in cases.train_cases(quick, CPU, 0):
        if tc.spec.kind == "cnn":
            assert tc.spec.epochs == 1 and tc.spec.train_limit == 4096


class _Interrupt(Progress):
    """Raises KeyboardInterrupt (Ctrl-C) at the first status line of the run named `at`."""

    def __init__(self, at: str) -> None:
        super().__init__(total=10, stream=io.StringIO(), live=False)
        self.at = at

    def status(self, text: str) -> None:
        if self._current == self.at:
            raise KeyboardInterrupt
        super().status(text)


def _profile():
    spec = TrainSpec("cnn", "resnet", "zeropad", 1, 64, seeds=(0, 1, 2), batch_size=32,
                     trainer=(("evals_per_epoch", 2), ("eval_batch_size", 500)))
    return dataclasses.replace(PROFILES["smoke"], train=(spec,))


def _tiny(tc) -> torch.nn.Module:  # the runner's model, small: this test is about the seeds
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, stride=2), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 13 * 13, 10))


def test_a_run_interrupted_in_a_seed_resumes_and_keeps_every_finished_seed(monkeypatch):
    monkeypatch.setattr(runs, "build_model", _tiny)
    profile = _profile()
    dataset = sources.load(data_dir=sources.ASSETS / "mnist-subset")
    plan = cases.train_cases(profile, CPU, 0)
    saved: list[dict] = []
    save = lambda kind, entry: saved.append(entry)  # noqa: E731 - the runner's progress file
    with pytest.raises(KeyboardInterrupt):
        runs.run_training(plan, profile, dataset, CPU, _Interrupt(plan[1].name), save)
    assert [e["name"] for e in saved] == [plan[0].name]  # seed 0 finished, seed 1 was cut
    first = dict(saved[0])
    pending = [tc for tc in plan if tc.name not in {e["name"] for e in saved}]
    assert pending == plan[1:]
    runs.run_training(pending, profile, dataset, CPU, _Interrupt("none"), save)
    assert [e["name"] for e in saved] == [tc.name for tc in plan]
    assert saved[0] == first and all(e["status"] == "ok" for e in saved)
    assert [e["seed"] for e in saved] == [0, 1, 2]
    assert all(len(e["curve"]) == 2 and e["options"]["evals_per_epoch"] == 2 for e in saved)
