"""The report groups the RNN styles by cell (issue #13): one block per cell and shape, each ranked
on its own, and fastrnns' published LSTM figures beside the LSTM results. Synthetic samples
(tests/report_samples.py, cells=...): each cell has its own clear winner, so a ranking that mixed
cells would name the wrong one."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from reports import analysis, anchors, cells, ranking
from reports.load import bench_frame, load_run
from reports.report import write_report
from tests import report_samples as rs

ALL_CELLS = ("rnn", "lstm", "gru")
QUICK = {"cnn": False, "training": False, "sweeps": False}
CELL_TITLES = {"rnn": "RNN —", "lstm": "LSTM —", "gru": "GRU —"}


def _write(directory: Path, **kwargs) -> Path:
    return write_report(rs.write_results(directory, rs.make_results(**{**QUICK, **kwargs})))[0]


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> tuple[str, Path]:
    """RNN, LSTM and GRU at the MNIST shape (no fastrnns-size LSTM)."""
    path = _write(tmp_path_factory.mktemp("cells"), cells=ALL_CELLS)
    return path.read_text(encoding="utf-8"), path.parent


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> str:
    """LSTM at the MNIST shape and at fastrnns' shape (the full profile's "lstm-large")."""
    path = _write(tmp_path_factory.mktemp("large"), cells=("lstm",), fastrnns=True)
    return path.read_text(encoding="utf-8")


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _blocks(html: str) -> dict[str, str]:
    """The RNN section's blocks by group: from each block's <h3> to the next <h3>."""
    rnn = _section(html, "rnn")
    starts = [(m.group(1), m.start()) for m in re.finditer(r'<h3 id="cell-([\w-]+)"', rnn)]
    ends = [s for _, s in starts[1:]] + [len(rnn)]
    return {group: rnn[start:end] for (group, start), end in zip(starts, ends, strict=True)}


def _fastest(block: str) -> set[tuple[str, str]]:
    """(style, pass) of every row the block's ranking table calls fastest."""
    table = block[:block.index("</table>")]
    return set(re.findall(r"<td>cpu</td><td>([\w-]+)</td><td>(\w+)</td>.*?"
                          r'<td class="num">fastest</td>', table))


def test_one_block_per_cell_in_order(three):
    blocks = _blocks(three[0])
    assert list(blocks) == list(ALL_CELLS)
    for cell, block in blocks.items():
        assert CELL_TITLES[cell] in block and "batch 64, 28 steps, input 28, hidden 128" in block
        assert block.count("<svg") == 2  # bar + strip chart per pass
        assert f"{cells.cell_name(cell)} styles, forward pass on cpu" in block


def test_each_cell_ranked_on_its_own(three):
    # compile leads the vanilla RNN by construction and is faster than every LSTM or GRU style:
    # a ranking that mixed cells would call it fastest everywhere.
    for cell, block in _blocks(three[0]).items():
        winner = rs.CELL_WINNERS[cell]
        assert _fastest(block) == {(winner, "forward"), (winner, "forward_backward")}
        assert block.count("fastest</td>") == 2


def test_headlines_name_the_cell(three):
    head = _section(three[0], "headline")
    for cell in ALL_CELLS:
        name, winner = cells.cell_name(cell), rs.CELL_WINNERS[cell]
        for pass_ in ("forward pass", "forward + backward pass"):
            assert f"{name} on cpu, {pass_}: <strong>{winner}</strong> is fastest at" in head
    assert head.count("torch.nn.LSTM itself leads") == 2  # native is the LSTM's winner
    assert "torch.nn.RNN itself leads" not in head
    blocks = _blocks(three[0])
    assert "LSTM on cpu, forward pass: <strong>native</strong>" in blocks["lstm"]
    assert "RNN on cpu" not in blocks["lstm"] and "LSTM on cpu" not in blocks["rnn"]


def test_rankings_never_mix_cells():
    bench = bench_frame(rs.make_results(cells=ALL_CELLS, **QUICK)["benchmarks"])
    assert (ranking.rankings(bench, "lstm")["cell"] == "lstm").all()
    heads = {g: ranking.rnn_headlines(bench, group=g) for g in ALL_CELLS}
    for cell, hs in heads.items():
        assert [(h.cell, h.label, h.fastest) for h in hs] == [
            (cell, cells.cell_name(cell), rs.CELL_WINNERS[cell])] * 2
        assert all(h.clear_winner for h in hs)


def test_lstm_block_carries_the_fastrnns_figures_as_context(three):
    blocks = _blocks(three[0])
    lstm = blocks["lstm"]
    assert "For context: PyTorch benchmarks/fastrnns, PyTorch PR #45591" in lstm
    assert "cudnn 11.42 / 17.88 ms" in lstm and "py 40.4 / 55.5 ms" in lstm
    assert "on a GPU" in lstm and "timed separately" in lstm and "not comparable" in lstm
    assert "11.42" not in lstm[:lstm.index("</table>")]  # never in our ranking table
    assert "fastrnns" not in blocks["rnn"] and "fastrnns" not in blocks["gru"]


def test_fastrnns_block_sets_the_published_figures_beside_ours(large):
    blocks = _blocks(large)
    assert list(blocks) == ["lstm", "lstm-large"]
    block = blocks["lstm-large"]
    assert "LSTM at the fastrnns size — batch 64, 100 steps, input 512, hidden 512" in block
    assert "LSTM at the fastrnns size on cpu, forward pass: <strong>native</strong>" in block
    ours = block[:block.index("<h4>")]
    assert "11.42" not in ours and "fastrnns runner" not in ours  # our table is ours alone
    published = block[block.index("<h4>"):]
    for t in anchors.FASTRNNS:
        assert f"<td>{t.runner}</td>" in published
        assert f"{t.forward_ms} ms" in published and f"{t.backward_ms} ms" in published
    assert "Published backward alone (GPU)" in published
    assert "This run on cpu: forward + backward" in published
    assert "forward and the backward timed separately" in published
    # the published figures stand in the large block only: no context note in the MNIST one
    assert "fastrnns" not in blocks["lstm"]
    assert "LSTM at the fastrnns size on cpu" in _section(large, "headline")


def test_summary_has_the_cell(three):
    html, directory = three
    csv = pd.read_csv(directory / "summary.csv")
    assert "cell" in csv.columns
    by_name = csv.set_index("name")["cell"]
    for cell in ALL_CELLS:
        p = rs.rnn_params("forward", cell=cell)
        assert by_name[rs.rnn_name("native", p)] == cell
    md = (directory / "summary.md").read_text(encoding="utf-8")
    assert "| Case | Cell |" in md and "| LSTM |" in md and "| GRU |" in md
    assert "LSTM on cpu, forward pass" in md


def test_version_1_reads_as_the_vanilla_rnn(tmp_path):
    run = load_run(rs.V1_FIXTURE)
    rnn_rows = run.bench[run.bench["name"].str.startswith("rnn/")]
    assert (rnn_rows["cell"] == "rnn").all()
    assert cells.block_groups(run.bench) == ["rnn"]
    html = write_report(rs.V1_FIXTURE, tmp_path / "report.html")[0].read_text(encoding="utf-8")
    assert list(_blocks(html)) == ["rnn"]
    assert "RNN on cpu, forward pass" in _section(html, "headline")
    assert (pd.read_csv(tmp_path / "summary.csv").set_index("name").loc[
        rnn_rows["name"], "cell"] == "rnn").all()


def test_large_groups_are_blocks_not_sweeps():
    bench = pd.DataFrame({"groups": [["rnn"], ["rnn-large"], ["rnn-seq_len"], ["lstm-large"]],
                          "cell": ["rnn", "rnn", "rnn", "lstm"]})
    assert analysis.sweep_groups(bench) == ["rnn-seq_len"]
    assert cells.block_groups(bench) == ["rnn", "rnn-large", "lstm-large"]
    assert cells.block_label("rnn-large", rs.rnn_params("forward", batch=512)) == (
        "RNN (batch 512, 28 steps, input 28, hidden 128)")
    assert cells.is_fastrnns(rs.rnn_params("forward", cell="lstm", **rs.FASTRNNS_SHAPE))
    assert not cells.is_fastrnns(rs.rnn_params("forward", cell="gru", **rs.FASTRNNS_SHAPE))
