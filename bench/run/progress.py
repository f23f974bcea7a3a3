"""The live progress line of `mnistbench run`.

On a terminal: one line redrawn in place — current case, cases done/total, elapsed and estimated
remaining time, and the trainer's status. Not on a terminal (CI logs, pipes): only the phase
lines and the final summary, so logs stay readable.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts finished work items and draws where the run is."""

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None,
                 live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.total = total
        self.done = done
        self._resumed = done
        self._start = time.monotonic()
        self._current = ""
        self._status = ""
        self._last_draw = 0.0

    def say(self, line: str) -> None:
        """A line that stays (phase changes, warnings, the summary) — shown everywhere."""
        self._clear()
        print(line, file=self.stream, flush=True)
        self._draw(force=True)

    def start(self, name: str) -> None:
        self._current, self._status = name, ""
        self._draw(force=True)

    def status(self, text: str) -> None:
        """Free-form status of the current item (the trainer's epoch/step/loss)."""
        self._status = text
        self._draw()

    def finish_item(self) -> None:
        self.done += 1
        self._draw(force=True)

    def close(self) -> None:
        self._clear()

    def eta_s(self) -> float | None:
        measured = self.done - self._resumed
        if measured <= 0:
            return None
        per_item = (time.monotonic() - self._start) / measured
        return per_item * (self.total - self.done)

    def line(self) -> str:
        elapsed = format_duration(time.monotonic() - self._start)
        eta = self.eta_s()
        left = f", ~{format_duration(eta)} left" if eta is not None else ""
        status = f"  {self._status}" if self._status else ""
        return f"[{self.done}/{self.total}] {elapsed} elapsed{left}  {self._current}{status}"

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.live or (not force and now - self._last_draw < 0.25):
            return
        self._last_draw = now
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r\x1b[2K" + self.line()[:width])
        self.stream.flush()

    def _clear(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
