"""The headline: a few sentences, written from the data, that answer the run's question.

A sentence is a tuple of (text, strong) parts so the template can bold names without ever marking
text from a results file as safe HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports import analysis, fmt

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


# Within this fraction of native the headline says "on par" instead of "1.02× faster": a ratio
# that small is inside the run-to-run noise of a 2-core CPU.
PAR_BAND = 0.05


def pass_name(pass_: str | None) -> str:
    return PASS_NAMES.get(pass_ or "", pass_ or "unknown pass")


def rnn_sentence(h: analysis.RnnHeadline) -> Sentence:
    """E.g. 'RNN on cpu, forward pass: premul is fastest at 1.2 ms per call — 1.5× native …'."""
    lead = (f"RNN on {h.device}, {pass_name(h.pass_)}: ", (h.fastest,),
            " is fastest at ", (fmt.duration(h.fastest_median),), " per call")
    if h.styles == 1:
        return _p(*lead, " (the only style measured).")
    if h.fastest == analysis.baseline_style():
        versus = (" — torch.nn.RNN itself wins; ",)
    elif h.speedup_native is None:
        versus = (" — native was not measured; ",)
    elif abs(h.speedup_native - 1) < PAR_BAND:
        versus = (" — on par with native (", (fmt.ratio(h.speedup_native),), "), ")
    else:
        versus = (" — ", (f"{fmt.ratio(h.speedup_native)} faster",), " than native, ")
    caution = (" Noisy timings (IQR above 10 % of the median): treat these ratios with care."
               if h.noisy else "")
    return _p(*lead, *versus, (f"{fmt.ratio(h.speedup_slowest)} faster",),
              f" than the slowest style ({h.slowest}), of {h.styles} styles.{caution}")


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


def sentences(rnn: list[analysis.RnnHeadline],
              cnn: list[analysis.CnnVerdict]) -> list[Sentence]:
    """All headline sentences, RNN first."""
    return [rnn_sentence(h) for h in rnn] + [cnn_sentence(v) for v in cnn]


def plain(sentence: Sentence) -> str:
    """The sentence as plain text (summary.md)."""
    return "".join(p.text for p in sentence)
