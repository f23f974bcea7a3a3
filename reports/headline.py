"""The headline: a few sentences, written from the data, that answer the run's question.

A sentence is a tuple of (text, strong) parts so the template can bold names without ever marking
text from a results file as safe HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.timing import stats
from reports import analysis, cells, fmt, ranking

PASS_NAMES = {"forward": "forward pass", "forward_backward": "forward + backward pass",
              "inference": "inference", "train_step": "train step"}


@dataclass(frozen=True)
class Part:
    text: str
    strong: bool = False


Sentence = tuple[Part, ...]


def _p(*parts: str | tuple[str]) -> Sentence:
    """Plain strings are plain text; 1-tuples are emphasised."""
    return tuple(Part(p[0], True) if isinstance(p, tuple) else Part(p) for p in parts)


def pass_name(pass_: str | None) -> str:
    return PASS_NAMES.get(pass_ or "", pass_ or "unknown pass")


def names(items: tuple[str, ...] | list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def interval(v: stats.Verdict) -> str:
    """'95 % interval 1.20–1.31×, 3 repetitions'."""
    reps = f"{v.repetitions} repetition" + ("s" if v.repetitions != 1 else "")
    return (f"{round(stats.CONFIDENCE * 100)} % interval {fmt.ratio(v.low)[:-1]}–"
            f"{fmt.ratio(v.high)}, {reps}")


def _versus_native(h: ranking.RnnHeadline) -> tuple:
    native = analysis.baseline_style()
    if h.fastest == native and h.clear_winner:
        return (f"; {cells.torch_module(h.cell)} itself leads",)
    if native in h.leaders or (h.clear_winner and h.runner_up == native):
        return ()  # the sentence already says how native stands
    if h.native is None:
        return ("; native was not measured",)
    if h.native.verdict == "slower":
        return ("; ", (f"{fmt.ratio(h.native.ratio)} faster",), " than native")
    return (f"; within the noise of native ({fmt.ratio(h.native.ratio)}, {interval(h.native)})",)


def _lead(h: ranking.RnnHeadline) -> tuple:
    """Who leads: one style beyond the noise, tied leaders, or a run that cannot decide."""
    where = f"{h.label} on {h.device}, {pass_name(h.pass_)}: "
    at = (fmt.duration(h.fastest_median),)
    v = h.lead
    if not h.decided:
        return (where, (h.fastest,), " has the lowest median, ", at, " per call, but with one "
                "repetition per case no difference can be called (runner-up ", (h.runner_up,),
                f" at {fmt.ratio(v.ratio)})")
    if h.clear_winner:
        return (where, (h.fastest,), " is fastest at ", at, " per call — ",
                (f"{fmt.ratio(v.ratio)} faster",), " than the runner-up ", (h.runner_up,),
                f" ({interval(v)})")
    # The ranking is by raw median; the ratio adjusts each pass for its control. When the
    # machine sat in two states, the pooled medians can put one style ahead and the adjusted
    # ratio the other (a quick run on the 2-core VM: native's LSTM forward 1.90 ms against
    # bptt's 2.09 ms, bptt 0.924x native's time adjusted); say so rather than leave it to read
    # as a contradiction.
    reversed_ = (f" (adjusted for the control timed before each pass, {h.runner_up}'s is the "
                 f"lower)" if v.ratio < 1 else "")
    return (where, (names(h.leaders),), " are ", ("tied within the noise",), f" — {h.runner_up} "
            f"takes {fmt.ratio(v.ratio)} the time of {h.fastest} ({interval(v)}), inside the "
            f"{fmt.ratio(v.factor)} a difference must clear; {h.fastest} has the lower median, ",
            at, f" per call{reversed_}")


def rnn_sentence(h: ranking.RnnHeadline) -> Sentence:
    """E.g. 'LSTM on cpu, forward pass: compile is fastest at 0.80 ms per call — 1.25× faster
    than the runner-up native (95 % interval 1.20–1.31×, 3 repetitions); …'."""
    if h.styles == 1:
        return _p(f"{h.label} on {h.device}, {pass_name(h.pass_)}: ", (h.fastest,), " at ",
                  (fmt.duration(h.fastest_median),), " per call (the only style measured).")
    native = _versus_native(h) if h.decided else ()
    cautions = []
    if h.unstable:
        cautions.append(" Unstable timings (repetition medians more than 10 % apart): treat "
                        "these ratios with care.")
    if h.noisy:
        cautions.append(" Noisy timings (IQR above 10 % of the median) in the cases quoted.")
    slowest = () if h.slowest == h.runner_up else (
        "; the slowest style (", (h.slowest,), ") takes ", (fmt.ratio(h.speedup_slowest),),
        " as long")
    return _p(*_lead(h), *native, *slowest, f", of {h.styles} styles.", "".join(cautions))


def _spread_text(v: analysis.CnnVerdict) -> str:
    if v.acc_delta is None:
        return ""
    if v.spread is None:
        return ("; the seed-to-seed spread is unknown (one seed per variant), so this difference "
                "may be noise")
    where = "within" if abs(v.acc_delta) <= v.spread else "outside"
    return (f", {where} the seed-to-seed spread (± {v.spread * 100:.2f} points over "
            f"{v.seeds} seeds)")


def cnn_sentence(v: analysis.CnnVerdict) -> Sentence:
    """E.g. 'resnet on cpu: projection shortcuts cost +25.0 % time per train step vs zeropad for
    +0.20 points of test accuracy, within the seed-to-seed spread (± 0.14 points over 3 seeds).'"""
    lead = (f"{v.family} on {v.device}: ", (f"{v.compared} shortcuts",))
    if v.time_change is None:
        cost: tuple = (" were not timed against ", (v.reference,), "")
    else:
        verb = " cost " if v.time_change >= 0 else " save "
        cost = (verb, (f"{fmt.percent(abs(v.time_change), signed=v.time_change >= 0)} time",),
                f" per {pass_name(v.pass_)} vs ", (v.reference,))
    if v.acc_delta is None:
        gain: tuple = (" (test accuracy of both variants was not measured in this run)",)
    else:
        gain = (" for ", (fmt.points(v.acc_delta),), " of test accuracy")
    return _p(*lead, *cost, *gain, _spread_text(v) + ".")


def plain(sentence: Sentence) -> str:
    """The sentence as plain text (summary.md)."""
    return "".join(p.text for p in sentence)
