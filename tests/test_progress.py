"""bench.run.progress: the live line on a terminal, only lasting lines elsewhere."""

from __future__ import annotations

import io
import os

import pytest

from bench.run import progress
from bench.run.progress import Progress, format_duration

CLEAR = "\r\x1b[2K"


class Clock:
    """time.monotonic for the progress module, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _terminal_width(monkeypatch, columns: int) -> None:
    size = os.terminal_size((columns, 24))
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda fallback: size)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress.time, "monotonic", fake)
    _terminal_width(monkeypatch, 200)
    return fake


@pytest.mark.parametrize("seconds, text", [
    (0, "0:00"), (0.4, "0:00"), (59.4, "0:59"), (59.6, "1:00"), (61, "1:01"),
    (3599, "59:59"), (3600, "1:00:00"), (3661, "1:01:01"), (90061, "25:01:01"), (-5, "0:00")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_not_a_terminal_gets_only_the_lasting_lines(clock):
    stream = io.StringIO()
    p = Progress(3, stream=stream)
    assert not p.live
    p.start("rnn/loop/forward")
    p.status("epoch 1/2")
    p.finish_item()
    p.say("timing 3 cases on cpu")
    p.close()
    assert stream.getvalue() == "timing 3 cases on cpu\n"
    assert p.done == 1


def test_a_terminal_redraws_one_line_in_place(clock):
    stream = Terminal()
    p = Progress(3, stream=stream)
    assert p.live
    p.start("case-a")
    assert stream.getvalue() == CLEAR + "[0/3] 0:00 elapsed  case-a"
    clock.now += 10
    p.finish_item()
    assert stream.getvalue().endswith(CLEAR + "[1/3] 0:10 elapsed, ~0:20 left  case-a")
    p.say("a warning")  # cleared, printed on its own line, then the live line again
    assert stream.getvalue().endswith(CLEAR + "a warning\n" + CLEAR + "[1/3] 0:10 elapsed, "
                                      "~0:20 left  case-a")
    p.close()
    assert stream.getvalue().endswith(CLEAR)


def test_status_redraws_at_most_four_times_a_second(clock):
    stream = Terminal()
    p = Progress(2, stream=stream)
    p.start("train/resnet")
    drawn = stream.getvalue()
    clock.now += 0.1
    p.status("step 1")
    assert stream.getvalue() == drawn  # too soon after the last draw
    clock.now += 0.2
    p.status("step 2")
    assert stream.getvalue() == drawn + CLEAR + "[0/2] 0:00 elapsed  train/resnet  step 2"


def test_live_can_be_forced_either_way(clock):
    forced_off = Terminal()
    Progress(1, stream=forced_off, live=False).start("x")
    assert forced_off.getvalue() == ""
    forced_on = io.StringIO()
    Progress(1, stream=forced_on, live=True).start("x")
    assert forced_on.getvalue() == CLEAR + "[0/1] 0:00 elapsed  x"


def test_the_line_is_cut_to_the_terminal_width(clock, monkeypatch):
    _terminal_width(monkeypatch, 20)
    stream = Terminal()
    Progress(5, stream=stream).start("a-very-long-case-name-indeed")
    assert stream.getvalue() == CLEAR + "[0/5] 0:00 elapsed  a-very-long-case-name"[:19]


def test_eta_counts_only_items_finished_in_this_process(clock):
    p = Progress(10, done=4)  # resumed: 4 finished before, they took no time here
    assert p.eta_s() is None and "left" not in p.line()
    clock.now += 30
    p.finish_item()
    p.finish_item()
    assert p.eta_s() == pytest.approx(15 * 4)  # 15 s an item, 4 items to go
    assert p.line().startswith("[6/10] 0:30 elapsed, ~1:00 left")
