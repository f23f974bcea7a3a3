"""The training recipe in words, from the `options` that every training record keeps.

A reader of a time-to-accuracy verdict needs to know what was trained and how (optimizer,
schedule, batch, regularisation, the epoch cap and when the model was evaluated), or the times
cannot be compared with anyone else's. Every record carries its trainer's options
(`bench.training.trainer.TrainConfig.options`); runs that are compared share them, and where they
do not, the sentence says which options differ instead of describing one of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from bench.training.optim import WARMUP_FRACTION, WARMUP_START

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}
_SCHEDULES = {
    "onecycle": (f"onecycle schedule ({WARMUP_FRACTION * 100:g} % of the steps warming up from "
                 f"1/{round(1 / WARMUP_START)} of the peak, then a cosine decay to 0)"),
    "cosine": "cosine decay to 0",
    "step": "step schedule (÷10 at 50 % and at 75 % of the steps)",
    "constant": "constant LR",
}


def _g(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _optimizer(o: dict) -> str:
    name = _OPTIMIZERS.get(o.get("optimizer"), str(o.get("optimizer")))
    if o.get("optimizer") == "sgd" and o.get("momentum"):
        name += f" (momentum {_g(o['momentum'])}{', Nesterov' if o.get('nesterov') else ''})"
    return name


def _epochs(o: dict) -> str:
    epochs = o.get("epochs")
    unit = "epoch" if epochs is not None and epochs <= 1 else "epochs"
    if o.get("stop_at_target") and o.get("target_acc") is not None:
        return (f"at most {epochs:g} {unit} (the schedule spans the cap), stopped at the first "
                f"evaluation at or above {o['target_acc'] * 100:g} % test accuracy")
    return f"{epochs:g} {unit}"


def describe(o: dict) -> str:
    """One sentence for one set of trainer options (keys missing from older files are left
    out)."""
    parts = [_optimizer(o)]
    if o.get("lr") is not None:
        parts.append(f"peak LR {_g(o['lr'])}" if o.get("schedule", "constant") != "constant"
                     else f"LR {_g(o['lr'])}")
    if o.get("schedule") in _SCHEDULES and o.get("schedule") != "constant":
        parts.append(_SCHEDULES[o["schedule"]])
    if o.get("batch_size"):
        parts.append(f"batch {o['batch_size']}")
    if o.get("weight_decay"):
        parts.append(f"weight decay {_g(o['weight_decay'])}")
    if o.get("label_smoothing"):
        parts.append(f"label smoothing {_g(o['label_smoothing'])}")
    if o.get("grad_clip"):
        parts.append(f"gradient norm clipped at {_g(o['grad_clip'])}")
    text = "Trained with " + ", ".join(parts)
    if o.get("epochs"):
        text += f"; {_epochs(o)}"
    if o.get("train_limit"):
        text += f", on {o['train_limit']} training images"
    if o.get("evals_per_epoch"):
        n = o["evals_per_epoch"]
        # at most: a test set smaller than the limit (the bundled subset's 1000) is used whole
        where = (f"at most {o['test_limit']} class-balanced test images" if o.get("test_limit")
                 else "the whole test set")
        text += (f"; {where} evaluated {'once' if n == 1 else f'{n} times'} per epoch, off the "
                 "clock")
        if o.get("precise_bn"):
            text += (f", BatchNorm statistics recomputed over {o['precise_bn']} training images "
                     "first (precise BN)")
    extras = [w for k, w in (("channels_last", "NHWC activations"),
                             ("compile", "torch.compile")) if o.get(k)]
    if extras:
        text += f"; {' and '.join(extras)}"
    return text + "."


def recipe_text(options: Iterable[dict | None]) -> str:
    """The recipe of a set of compared runs: described when they share it, otherwise the options
    that differ between them named ('' when no record has options: files from before them)."""
    seen = [o for o in options if o]
    if not seen:
        return ""
    first = seen[0]
    differ = sorted({k for o in seen for k in set(o) | set(first) if o.get(k) != first.get(k)})
    if differ:
        return ("These runs were not trained alike: their trainer options differ in "
                f"{', '.join(differ)}, so their times and accuracies are not like for like.")
    return describe(first)
