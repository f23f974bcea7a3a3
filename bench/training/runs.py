"""The training half of `mnistbench run`: each profile training run through the trainer.

Timed cases measure kernels; training runs measure what a user gets — the test accuracy curve
over training time, time to the target accuracy. Each finished run (one seed) is saved at once, so
an interrupted run resumes at the seed it was in, keeping every finished one. A run that raises
is recorded as failed with its reason and the next run goes on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch

from bench.data.tensors import to_tensors
from bench.errors import one_line
from bench.faults import injected_failure
from bench.run.progress import Progress
from bench.store.schema import Training
from bench.system.device import set_seed, synchronize
from bench.timing.cases import TrainCase
from bench.timing.profiles import Profile


def build_model(tc: TrainCase) -> torch.nn.Module:
    """The model a training spec names: a CNN variant, or the row-by-row RNN classifier."""
    if tc.spec.kind == "cnn":
        from implementations import cnn

        return cnn.build(tc.spec.model, tc.spec.variant)
    return rnn_classifier(tc.spec.variant)


def rnn_classifier(style: str) -> torch.nn.Module:
    """The row-by-row RNN classifier in `style`, starting from the weights the `native` one gets
    under the current seed: every style trained for a seed starts from the same point, so runs
    differ only by the implementation (issue 13). Strict: every style has torch.nn's names."""
    from implementations.classifier import RowRNNClassifier

    reference = RowRNNClassifier("native")  # drawn first: native's runs keep their weights
    if style == "native":
        return reference
    model = RowRNNClassifier(style)
    model.load_state_dict(reference.state_dict(), strict=True)
    return model


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
    config = train_config(tc, profile)
    compile_s = precompile(model, config, tensors, device) if _compiles(tc) else None
    record = train(model, tensors, config, device, status,
                   model_name=tc.spec.model, variant=tc.spec.variant)
    if compile_s is not None:
        record = dataclasses.replace(record, compile_s=compile_s)
    return dataclasses.replace(record, name=tc.name)


def _compiles(tc: TrainCase) -> bool:
    """An RNN style that compiles on its first call per input shape (torch.compile inside)."""
    from implementations import rnn

    return tc.spec.kind == "rnn" and any(info.name == tc.spec.variant and info.compiles
                                         for info in rnn.describe())


def precompile(model: torch.nn.Module, config, tensors, device: torch.device) -> float:
    """Seconds spent compiling a compiling style's train step before the training clock starts,
    as the trainer does for `compile` (bench.training.speed), so its clock times steady steps
    only: one forward + backward on zero images per batch size the run trains at (full batches
    and the epoch's short last one), the gradients dropped and no step taken (the weights stay as
    built). The evaluation's shapes compile inside the evaluation, which is off the clock too."""
    images = tensors.y_train.numel()
    images = images if config.train_limit is None else min(images, config.train_limit)
    sizes = sorted({min(config.batch_size, images), images % config.batch_size} - {0})
    model.to(device).train()
    synchronize(device)
    start = time.perf_counter()
    for size in sizes:
        model(torch.zeros((size, 1, 28, 28), device=device)).sum().backward()  # (B, 10)
    synchronize(device)
    seconds = time.perf_counter() - start
    model.zero_grad(set_to_none=True)
    return seconds


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
