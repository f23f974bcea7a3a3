"""PyTorch fastrnns' published LSTM timings, set beside this run's LSTM results (issue #13).

They are other people's numbers (reports.anchors.FASTRNNS, from ../shared/ANCHORS.md): a GPU,
the forward and the backward timed separately. Ours time the forward, and forward + backward in
one call. So they stand beside ours in their own columns, labelled as published, and are never
divided into ours, ranked with our styles or drawn in our charts.
"""

from __future__ import annotations

import pandas as pd

from reports import anchors, fmt
from reports.tables import Table, make_table

PUBLISHED = (f"{anchors.FASTRNNS_SOURCE} published LSTM timings at "
             f"{anchors.FASTRNNS_SHAPE_TEXT}, on a GPU, with the forward and the backward timed "
             "separately (the backward figures exclude the forward)")


def _ours(ranked: pd.DataFrame, device: str, style: str, pass_: str) -> str:
    rows = ranked[(ranked["device"] == device) & (ranked["implementation"] == style)
                  & (ranked["pass"] == pass_)]
    return fmt.DASH if rows.empty else fmt.duration(rows["median"].iloc[0])


def table(ranked: pd.DataFrame) -> Table:
    """One row per fastrnns runner: what it is, its published forward and backward, the closest
    style here and that style's medians in this run, per device (a dash where it did not run)."""
    devices = sorted(ranked["device"].unique())
    spec = [("fastrnns runner", False), ("What it is", False), ("Published forward (GPU)", True),
            ("Published backward alone (GPU)", True), ("Closest style here", False)]
    for device in devices:
        spec += [(f"This run on {device}: forward", True),
                 (f"This run on {device}: forward + backward", True)]
    rows = []
    for t in anchors.FASTRNNS:
        row = [t.runner, t.what, f"{t.forward_ms} ms", f"{t.backward_ms} ms", t.style]
        for device in devices:
            row += [_ours(ranked, device, t.style, "forward"),
                    _ours(ranked, device, t.style, "forward_backward")]
        rows.append(row)
    return make_table(spec, rows)


def beside_note(devices: list[str]) -> str:
    """What the published table is, and why its numbers are not ours."""
    return (f"{PUBLISHED}; this run times the forward, and forward + backward in one call, on "
            f"{', '.join(devices)}. Different hardware and a different split of the work: the "
            "published columns are for orientation, never divided into ours or ranked with our "
            "styles.")


def context_note(shape: str) -> str:
    """The published figures as a note, for an LSTM block at another shape."""
    return (f"For context: {PUBLISHED}: {anchors.fastrnns_figures()} (forward / backward). "
            f"They are not comparable with the times above — a larger shape than this block's "
            f"({shape}), other hardware, and a backward timed alone; the full profile times the "
            "fastrnns shape itself.")
