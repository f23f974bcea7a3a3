"""The one jinja2 Environment, and how report outputs are written (all or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from bench.errors import UsageError
from bench.store.atomic import write_texts_atomic

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


def render_template(template: str, **context: object) -> str:
    """Render one template of reports/templates with `context`."""
    return ENV.get_template(template).render(**context)


def write_all(outputs: dict[Path, str]) -> list[Path]:
    """Write every (path, text) pair with bench.store.atomic: all files or none of them.

    Raises:
        UsageError: a directory cannot be created or a file cannot be written.
    """
    current = next(iter(outputs))
    try:
        for current in outputs:
            current.parent.mkdir(parents=True, exist_ok=True)
        write_texts_atomic(outputs)
    except OSError as exc:
        where = exc.filename or current
        raise UsageError(f"cannot write {where} ({exc.strerror or exc}); choose a writable "
                         f"output path with -o") from None
    return list(outputs)
