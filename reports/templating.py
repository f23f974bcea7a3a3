"""The one jinja2 Environment, and the atomic writer every report output goes through."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from bench.errors import UsageError

# Autoescape everything (the templates are all HTML); StrictUndefined turns a typo in a template
# into an error in the tests instead of an empty cell in a report.
ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart as the templates show it."""

    title: str
    svg: Markup
    caption: str


def svg(markup: str) -> Markup:
    """Mark a chart from reports.charts as safe: matplotlib escaped every text it contains."""
    return Markup(markup)


def render(template: str, **context: object) -> str:
    """Render one template of reports/templates with `context`."""
    return ENV.get_template(template).render(**context)


def _temp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_all(outputs: dict[Path, str]) -> list[Path]:
    """Write every (path, text) pair atomically: all temp files first, then one rename each.

    A failure before the renames leaves no output and no temp file behind.
    Raises:
        UsageError: a directory cannot be created or a file cannot be written.
    """
    temps: list[Path] = []
    current = next(iter(outputs))
    try:
        for current, text in outputs.items():
            if current.is_dir():  # caught before any rename, so no output is replaced
                raise IsADirectoryError(21, "it is a directory", str(current))
            current.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_temp_for(current))
            temps[-1].write_text(text, encoding="utf-8")
        for current, temp in zip(outputs, temps, strict=True):
            os.replace(temp, current)
    except OSError as exc:
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {current} ({exc.strerror or exc}); choose a writable "
                         f"output path with -o") from None
    return list(outputs)
