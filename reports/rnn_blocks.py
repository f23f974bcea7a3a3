"""The RNN section of the report: one block per cell and shape (reports.cells), each ranked on
its own, with its headline, its table, its bar + strip charts, and fastrnns' published LSTM
figures beside the LSTM results (reports.fastrnns).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reports import analysis, cells, charts, fastrnns, headline, ranking, tables
from reports.headline import Sentence
from reports.load import Run
from reports.tables import Table
from reports.templating import Chart, svg


@dataclass(frozen=True)
class RnnBlock:
    """One cell at one shape: what report.html shows of it, computed and formatted."""

    group: str  # "rnn" | "lstm" | "gru" | "lstm-large"
    anchor: str  # the HTML id: "cell-lstm"
    title: str  # "LSTM — batch 64, 28 steps, input 28, hidden 128"
    headline: list[Sentence]  # one per (device, pass), naming the cell
    table: Table
    charts: list[Chart]
    published: Table | None  # fastrnns' figures beside ours (the fastrnns-size LSTM block)
    notes: list[str]  # context: what the published figures are, and why they are not ours


def _charts(run: Run, group: str, label: str, ranked: pd.DataFrame,
            colors: dict[str, str]) -> list[Chart]:
    out = []
    for (device, pass_), part in ranked.groupby(["device", "pass"], sort=True):
        title = f"{label} styles, {headline.pass_name(pass_)} on {device}"
        caption = (f"Left: median time per call over all rounds ({tables.rounds_text(part)} per "
                   "case); whiskers span the interquartile range (q1–q3). Right: each dot is one "
                   f"repetition's median ({tables.repetitions_text(part)} fresh processes per "
                   "case); red dots and “(unstable)”: repetition medians more than 10 % apart.")
        chart_id = charts.strip_id("-".join((run.run_id, group, device, pass_)))
        chart = charts.bar_medians(part, title, colors, chart_id)
        out.append(Chart(title, svg(chart), caption))
    return out


def _context(group: str, params: dict, ranked: pd.DataFrame,
             fastrnns_block: bool) -> tuple[Table | None, list[str]]:
    """The fastrnns figures: a table beside ours at their shape; elsewhere, in an LSTM block of
    a run without that shape, a note; nothing for the other cells."""
    if cells.is_fastrnns(params):
        devices = sorted(ranked["device"].unique())
        return fastrnns.table(ranked), [fastrnns.beside_note(devices)]
    if cells.group_cell(group) == "lstm" and not fastrnns_block:
        return None, [fastrnns.context_note(cells.shape_text(params))]
    return None, []


def _block(run: Run, group: str, colors: dict[str, str], fastrnns_block: bool) -> RnnBlock | None:
    ranked = ranking.rankings(run.bench, group)
    if ranked.empty:
        return None
    params = ranked["params"].iloc[0]
    label = cells.block_label(group, params)
    published, notes = _context(group, params, ranked, fastrnns_block)
    return RnnBlock(
        group=group, anchor=f"cell-{group}",
        title=f"{label} — {cells.shape_text(params)}",
        headline=[headline.rnn_sentence(h)
                  for h in ranking.rnn_headlines(run.bench, ranked, group)],
        table=tables.rnn_table(ranked, run.calibration),
        charts=_charts(run, group, label, ranked, colors),
        published=published, notes=notes)


def blocks(run: Run, colors: dict[str, str]) -> list[RnnBlock]:
    """The blocks of every cell present, in cells.CELL_ORDER, each with its large shape after
    it; groups with no finished case are left out (the failures table lists them)."""
    groups = cells.block_groups(run.bench)
    ok = analysis.ok_cases(run.bench)
    fastrnns_block = any(cells.is_fastrnns(p) for p in ok["params"])
    built = [_block(run, g, colors, fastrnns_block) for g in groups]
    return [b for b in built if b is not None]
