"""“Trained with every implementation” (issue 13): one model trained in several RNN styles.

The profiles train the row-by-row RNN classifier in every style that runs on the device, from the
same initial weights (bench.training.runs.rnn_classifier) with the same seed and trainer options.
The styles compute the same function, so their test-accuracy curves against images seen should
coincide — they can differ only by float rounding, which training may amplify — while their
training wall times differ. This module finds those sets in a results file and states both,
computed from the records.

A set: the finished training records of one model on one device, with one seed and equal trainer
options, whose variants are at least two RNN styles (`implementations.rnn.describe()`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from reports import charts, fmt
from reports.load import Run
from reports.tables import Table, make_table
from reports.templating import Chart, svg


@dataclass(frozen=True)
class Point:
    """One evaluation point of a run's curve."""

    images: int  # training images seen
    time_s: float  # training wall time so far (evaluations and compilation off the clock)
    acc: float  # test accuracy, 0..1


@dataclass(frozen=True)
class StyleRun:
    style: str
    curve: tuple[Point, ...]
    images_per_s: float | None
    compile_s: float | None  # a compiling style's compilation, before the clock
    time_to_target_s: float | None

    @property
    def train_s(self) -> float:
        """The training wall time of the whole run."""
        return self.curve[-1].time_s

    @property
    def final_acc(self) -> float:
        return self.curve[-1].acc

    def time_to(self, acc: float) -> float | None:
        """Training time at the first evaluation point at or above `acc` (None: never)."""
        return next((p.time_s for p in self.curve if p.acc >= acc), None)


@dataclass(frozen=True)
class Gap:
    """The styles' accuracies at one evaluation point that every style has."""

    images: int
    low: float
    high: float
    low_style: str
    high_style: str

    @property
    def gap(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class StyleSet:
    model: str
    device: str
    seed: int
    options: dict  # the trainer's options, the same for every run of the set
    train_images: int | None  # per epoch
    test_images: int | None
    target_acc: float | None
    runs: tuple[StyleRun, ...]  # fastest training first
    failed: tuple[str, ...]  # styles of the same model, device and seed that did not finish

    def run(self, style: str) -> StyleRun | None:
        return next((r for r in self.runs if r.style == style), None)

    def gaps(self) -> list[Gap]:
        """At each evaluation point (images seen) that every style reached: the lowest and the
        highest accuracy, in order of images seen."""
        shared = set.intersection(*({p.images for p in r.curve} for r in self.runs))
        out = []
        for images in sorted(shared):
            accs = {r.style: next(p.acc for p in r.curve if p.images == images)
                    for r in self.runs}
            low, high = min(accs, key=accs.get), max(accs, key=accs.get)
            out.append(Gap(images, accs[low], accs[high], low, high))
        return out

    def largest_gap(self) -> Gap | None:
        """The evaluation point where two styles differ most (the first such, on ties)."""
        gaps = self.gaps()
        return max(gaps, key=lambda g: g.gap) if gaps else None

    @property
    def fastest(self) -> StyleRun:
        return self.runs[0]

    @property
    def slowest(self) -> StyleRun:
        return self.runs[-1]

    def time_ratio(self) -> float:
        """Slowest training time over the fastest: how much the implementations differ."""
        return self.slowest.train_s / self.fastest.train_s

    def common_accuracy(self) -> float:
        """The highest accuracy every style reached: the lowest of the styles' best points."""
        return min(max(p.acc for p in r.curve) for r in self.runs)


def _style_names() -> list[str]:
    from implementations import rnn

    return [info.name for info in rnn.describe()]


def _style_run(entry: dict) -> StyleRun:
    curve = tuple(Point(int(p["images"]), float(p["time_s"]), float(p["test_acc"]))
                  for p in entry["curve"])
    return StyleRun(entry["variant"], curve, entry.get("images_per_s"), entry.get("compile_s"),
                    entry.get("time_to_target_s"))


def _key(entry: dict) -> tuple:
    return (entry["model"], entry["device"], entry.get("seed"),
            json.dumps(entry.get("options") or {}, sort_keys=True, default=str))


def style_sets(run: Run) -> list[StyleSet]:
    """Every set in the file (see the module docstring), in the order of their first record."""
    names = set(_style_names())
    entries = [e for e in run.data.get("training") or [] if e.get("variant") in names]
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        if entry.get("status", "ok") == "ok" and entry.get("curve"):
            groups.setdefault(_key(entry), []).append(entry)
    sets = []
    for key, done in groups.items():
        if len({e["variant"] for e in done}) < 2:
            continue
        failed = tuple(e["variant"] for e in entries if e.get("status", "ok") != "ok"
                       and _key(e)[:3] == key[:3])
        first = done[0]
        runs = sorted((_style_run(e) for e in done), key=lambda r: r.train_s)
        sets.append(StyleSet(first["model"], first["device"], first.get("seed"),
                             first.get("options") or {}, first.get("train_images"),
                             first.get("test_images"), first.get("target_acc"),
                             tuple(runs), failed))
    return sets


# --- as the report shows it ----------------------------------------------------------------------

def points_text(delta: float) -> str:
    """An unsigned accuracy difference: 0.0003 -> '0.03 points'."""
    return f"{delta * 100:.2f} points"


def title(s: StyleSet) -> str:
    """'rnn-classifier-styles on cpu, seed 0: 1 epoch of 4096 training images, batch 64'."""
    epochs = s.options.get("epochs")
    length = "" if epochs is None else f"{epochs} epoch{'s' if epochs != 1 else ''} of "
    images = "" if s.train_images is None else f"{s.train_images} training images"
    batch = s.options.get("batch_size")
    return (f"{s.model} on {s.device}, seed {s.seed}: {length}{images}"
            + ("" if batch is None else f", batch {batch}"))


def curves_sentence(s: StyleSet) -> str:
    """How closely the accuracy curves agree, from the largest gap between two styles."""
    gaps = s.gaps()
    worst = s.largest_gap()
    if worst is None:
        return "The styles' curves share no evaluation point, so they cannot be compared."
    test = f" on {s.test_images} test images" if s.test_images else ""
    each, any_ = (("the one evaluation point",) * 2 if len(gaps) == 1 else
                  (f"each of the {len(gaps)} evaluation points",
                   f"any of the {len(gaps)} evaluation points"))
    if worst.gap == 0:
        return (f"The {len(s.runs)} styles' accuracy curves coincide exactly: every style has "
                f"the same test accuracy at {each}{test}.")
    return (f"The {len(s.runs)} styles' accuracy curves agree within {points_text(worst.gap)} "
            f"(the largest difference between two styles at {any_}{test}: "
            f"{worst.high_style} {worst.high * 100:.2f} % vs {worst.low_style} "
            f"{worst.low * 100:.2f} % after {worst.images} images)"
            + (f"; one test image is {points_text(1 / s.test_images)}." if s.test_images
               else "."))


def times_sentence(s: StyleSet) -> str:
    """How far apart the training wall times are: slowest over fastest."""
    fast, slow = s.fastest, s.slowest
    return (f"Their training wall times differ {s.time_ratio():.1f}×: {fast.style} trained in "
            f"{fmt.duration(fast.train_s)} ({fmt.rate(fast.images_per_s)}), {slow.style} in "
            f"{fmt.duration(slow.train_s)} ({fmt.rate(slow.images_per_s)}).")


TABLE_SPEC = [("Style", False), ("Final test accuracy", True), ("vs native", True),
              ("Training time", True), ("Throughput", True), ("vs fastest", True),
              ("Time to common accuracy", True), ("Time to target", True),
              ("Compile (off the clock)", True)]


def style_table(s: StyleSet) -> Table:
    """One row per style, fastest training first: accuracy, time, throughput, time to accuracy."""
    native = s.run("native")
    common = s.common_accuracy()
    rows = []
    for r in s.runs:
        rows.append([r.style, fmt.accuracy(r.final_acc),
                     fmt.DASH if native is None else fmt.points(r.final_acc - native.final_acc),
                     fmt.duration(r.train_s), fmt.rate(r.images_per_s),
                     fmt.ratio(r.train_s / s.fastest.train_s), fmt.duration(r.time_to(common)),
                     fmt.duration(r.time_to_target_s) if r.time_to_target_s is not None
                     else "not reached", fmt.duration(r.compile_s)])
    return make_table(TABLE_SPEC, rows)


GAP_SPEC = [("Images seen", True), ("Lowest accuracy", True), ("Highest accuracy", True),
            ("Largest difference", True)]


def gap_table(s: StyleSet) -> Table:
    """At each evaluation point: the lowest and highest accuracy over the styles, and the gap."""
    rows = [[str(g.images), f"{fmt.accuracy(g.low)} ({g.low_style})",
             f"{fmt.accuracy(g.high)} ({g.high_style})", points_text(g.gap)]
            for g in s.gaps()]
    return make_table(GAP_SPEC, rows)


@dataclass(frozen=True)
class Block:
    """One set as the report shows it."""

    title: str
    sentences: tuple[str, ...]
    table: Table
    gaps: Table
    chart: Chart


def notes(s: StyleSet) -> tuple[str, ...]:
    """What the table's columns mean here, and the styles that did not finish."""
    out = [f"Time to common accuracy: the training time to the first evaluation point at or "
           f"above {fmt.accuracy(s.common_accuracy())}, the highest accuracy every style "
           f"reached; the run's target is {fmt.accuracy(s.target_acc)}. Evaluations are off "
           "the training clock."]
    if any(r.compile_s is not None for r in s.runs):
        out.append("A compiling style compiled its train step before the clock started "
                   "(“Compile”), as the trainer does for a compiled model.")
    if s.failed:
        out.append(f"Did not finish (see Failed and skipped): {', '.join(s.failed)}.")
    return tuple(out)


CAPTION = ("Left: test accuracy against training images seen, where the styles should coincide "
           "(markers shrink from style to style, so overlapping points stay visible). Right: "
           "the same points against training wall time, where they differ.")


def block(s: StyleSet, colors: dict[str, str], salt: str) -> Block:
    name = title(s)
    drawn = charts.style_curves_chart(
        [(r.style, [p.images for p in r.curve], [p.time_s for p in r.curve],
          [p.acc for p in r.curve]) for r in s.runs], name, colors, salt)
    return Block(name, (curves_sentence(s), times_sentence(s), *notes(s)), style_table(s),
                 gap_table(s), Chart(name, svg(drawn), CAPTION))


@dataclass(frozen=True)
class Section:
    blocks: tuple[Block, ...]


def section(run: Run, colors: dict[str, str], salt: str) -> Section:
    """Every set of the run, one block each (none: the section says it was not measured)."""
    return Section(tuple(block(s, colors, f"{salt}-{i}")
                         for i, s in enumerate(style_sets(run))))
