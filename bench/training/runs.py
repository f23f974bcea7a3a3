"""The training half of `mnistbench run`: each profile training run through the trainer.

Timed cases measure kernels; training runs measure what a user gets — the test accuracy curve
over training time, time to the target accuracy. Each finished run (one seed) is saved at once, so
an interrupted run resumes at the seed it was in, keeping every finished one. A run that raises
is recorded as failed with its reason and the next run goes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from bench.data.tensors import to_tensors
from bench.errors import one_line
from bench.faults import injected_failure
from bench.run.progress import Progress
from bench.store.schema import Training
from bench.system.device import set_seed
from bench.timing.cases import TrainCase
from bench.timing.profiles import Profile


def build_model(tc: TrainCase) -> torch.nn.Module:
    """The model a training spec names: a CNN variant, or the row-by-row RNN classifier."""
    if tc.spec.kind == "cnn":
        from implementations import cnn

        return cnn.build(tc.spec.model, tc.spec.variant)
    from implementations.classifier import RowRNNClassifier

    return RowRNNClassifier(tc.spec.variant)


def failed_record(tc: TrainCase, profile: Profile, error: str) -> Training:
    return Training(name=tc.name, model=tc.spec.model, variant=tc.spec.variant,
                    device=tc.device, seed=tc.seed, status="failed", error=error,
                    params_count=None, flops=None, epochs=[], time_to_target_s=None,
                    target_acc=profile.target_acc, train_images=None, test_images=None,
                    images_per_s=None)


def train_config(tc: TrainCase, profile: Profile):
    """The trainer's config for one run: its defaults, then what the spec sets."""
    from bench.training.trainer import TrainConfig

    config = TrainConfig(epochs=tc.spec.epochs, batch_size=tc.spec.batch_size, seed=tc.seed,
                         train_limit=tc.spec.train_limit, target_acc=profile.target_acc)
    if tc.spec.lr is not None:
        config = dataclasses.replace(config, lr=tc.spec.lr)
    return dataclasses.replace(config, **dict(tc.spec.trainer))


def train_one(tc: TrainCase, profile: Profile, tensors, device: torch.device,
              status: Callable[[str], None]) -> Training:
    from bench.training.trainer import train

    injected_failure(tc.name)
    set_seed(tc.seed)  # the initial weights are the run's seed's
    model = build_model(tc)
    record = train(model, tensors, train_config(tc, profile), device, status,
                   model_name=tc.spec.model, variant=tc.spec.variant)
    return dataclasses.replace(record, name=tc.name)


def run_training(pending: list[TrainCase], profile: Profile, dataset, device: torch.device,
                 progress: Progress, save: Callable[[str, dict], None]) -> None:
    if not pending:
        return
    progress.say(f"mnistbench: training {len(pending)} models on {device.type} "
                 f"({dataset.name}, source: {dataset.source})")
    tensors = to_tensors(dataset, device)
    for tc in pending:
        progress.start(tc.name)
        try:
            record = train_one(tc, profile, tensors, device, progress.status)
        except Exception as exc:  # one failed model must not cost the others' results
            record = failed_record(tc, profile, one_line(exc))
            if device.type == "cuda":
                torch.cuda.empty_cache()
        save("training", record.as_dict())
