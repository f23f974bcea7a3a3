"""The RNN cells of a run and the blocks of the report's RNN section (issue #13).

Every RNN case carries its cell (reports.load: "rnn" when a schema-1 file has none). A cell's
main group is named after it ("rnn", "lstm", "gru"); a larger shape of a cell is the group
"<cell>-large" (fastrnns' LSTM in the full profile). Each such group is one block of the report,
ranked on its own, so a style is only ever ranked against the other styles of its cell and shape.
The sweeps ("rnn-seq_len", ...) are not blocks.
"""

from __future__ import annotations

import pandas as pd

from reports import anchors

CELL_ORDER = ("rnn", "lstm", "gru")  # the order of the blocks; unknown cells follow, sorted
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
LARGE_SUFFIX = "-large"  # bench.timing.cases: a cell's extra shape is shown in "<cell>-large"


def cell_name(cell: str) -> str:
    """'LSTM' for 'lstm'; a cell this module does not know is shown in capitals."""
    return CELL_NAMES.get(cell, str(cell).upper())


def torch_module(cell: str) -> str:
    """The torch.nn module the `native` style of a cell is: 'torch.nn.LSTM'."""
    return f"torch.nn.{cell_name(cell)}"


def is_large(group: str) -> bool:
    return group.endswith(LARGE_SUFFIX)


def group_cell(group: str) -> str:
    """The cell a block group times: 'lstm-large' -> 'lstm'."""
    return group.removesuffix(LARGE_SUFFIX)


def _order(cell: str) -> tuple[int, str]:
    return (CELL_ORDER.index(cell) if cell in CELL_ORDER else len(CELL_ORDER), cell)


def block_groups(bench: pd.DataFrame) -> list[str]:
    """The RNN blocks present: each cell's main group, then its large shape, cells in order."""
    present = {g for groups in bench["groups"] for g in groups}
    cells = sorted({c for c in bench["cell"] if isinstance(c, str)}, key=_order)
    return [g for cell in cells for g in (cell, cell + LARGE_SUFFIX) if g in present]


def shape_text(params: dict) -> str:
    """'batch 64, 28 steps, input 28, hidden 128' (+ layers, bidirectional when not 1 / uni)."""
    text = (f"batch {params.get('batch')}, {params.get('seq_len')} steps, "
            f"input {params.get('input_size')}, hidden {params.get('hidden_size')}")
    layers = params.get("num_layers") or 1
    text += f", {layers} layers" if layers != 1 else ""
    return text + (", bidirectional" if params.get("bidirectional") else "")


def is_fastrnns(params: dict) -> bool:
    """True for the LSTM shape PyTorch's fastrnns published its timings at."""
    return all(params.get(k, "rnn" if k == "cell" else None) == v
               for k, v in anchors.FASTRNNS_SHAPE.items())


def block_label(group: str, params: dict) -> str:
    """How a block's headline names what it timed: 'LSTM', 'LSTM at the fastrnns size'."""
    name = cell_name(group_cell(group))
    if not is_large(group):
        return name
    if is_fastrnns(params):
        return f"{name} at the fastrnns size"
    return f"{name} ({shape_text(params)})"
