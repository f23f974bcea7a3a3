"""scripts/train_variants.py answers bad input with one line and exit 2, as mnistbench does."""

from __future__ import annotations

import pytest

from tests.conftest import load_script


def _script():
    return load_script("train_variants")


@pytest.mark.parametrize(("args", "words"), [
    (["--label-smoothing", "1.5"], "label_smoothing must be in [0, 1)"),
    (["--grad-clip", "0"], "grad_clip must be a positive norm"),
    (["--data-dir", "/nonexistent/mnist"], "/nonexistent/mnist"),
])
def test_bad_input_is_one_line_and_exit_2(args, words, capsys):
    assert _script().cli(["--train-limit", "64", "--quiet", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("train_variants: ") and captured.err.count("\n") == 1
    assert words in captured.err and "Traceback" not in captured.err
