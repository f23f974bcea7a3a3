"""`mnistbench report`: one results file -> report.html + summary.csv + summary.md.

The HTML is self-contained (inline CSS, inline SVG charts, no script, no network request).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.timing import stats
from reports import (
    analysis,
    anchors,
    card,
    charts,
    fmt,
    headline,
    recipe,
    rnn_blocks,
    scaling,
    study,
    style_training,
    tables,
)
from reports.load import Run, load_run
from reports.templating import Chart, render_template, svg, write_all

# swept param -> (section title, x-axis label, unit of the fitted slope)
SWEEP_TITLES = {"seq_len": ("Sequence length", "sequence length (time steps)", "time step"),
                "hidden_size": ("Hidden size", "hidden size", "hidden unit"),
                "batch": ("Batch size", "batch size", "sample")}
FITTED_SWEEPS = {"seq_len"}  # the claim under test: cost grows linearly with sequence length


@dataclass(frozen=True)
class Sweep:
    group: str
    title: str
    charts: list[Chart]
    fits: tables.Table | None


def _chart_id(run: Run, *parts: str) -> str:
    return charts.strip_id("-".join((run.run_id, *parts)))


def _sweep(run: Run, group: str, colors: dict[str, str]) -> Sweep | None:
    cases = analysis.sweep_cases(run.bench, group)
    if cases.empty:
        return None
    param = analysis.sweep_param(group)
    title, x_label, per = SWEEP_TITLES.get(param, (param, param, param))
    fits = analysis.sweep_fits(run.bench, group) if param in FITTED_SWEEPS else None
    out = []
    for (device, pass_), part in cases.groupby(["device", "pass"]):
        chart_title = f"{title} sweep, {headline.pass_name(pass_)} on {device}"
        part_fits = None if fits is None else fits[(fits["device"] == device)
                                                   & (fits["pass"] == pass_)]
        chart = charts.sweep_chart(part, "x", x_label, part_fits, chart_title,
                                   colors, _chart_id(run, group, device, pass_))
        log = charts.log_y_wanted(part["median"].to_numpy(float))
        caption = ("Markers: median; bars: IQR; small dots: each repetition's median."
                   + (" Log time axis: the styles span more than 5×." if log else "")
                   + (" Dashed: least-squares line per style (R² in the legend)."
                      if fits is not None else ""))
        out.append(Chart(chart_title, svg(chart), caption))
    return Sweep(group, title, out, None if fits is None else tables.fit_table(fits, per))


def _deprecations(bench: pd.DataFrame) -> list[str]:
    flagged = bench[bench["warnings"].map(bool)]
    pairs = {(c["implementation"], w) for _, c in flagged.iterrows() for w in c["warnings"]}
    return [f"{impl}: {warning}" for impl, warning in sorted(pairs)]


def _cnn(run: Run, colors: dict[str, str]) -> dict:
    summary = analysis.cnn_summary(run.bench, run.training)
    if summary.empty:
        return {"table": None, "chart": None}
    pass_ = "train_step" if summary["train_step_median"].notna().any() else "inference"
    chart = None
    if summary["acc_mean"].notna().any():
        title = f"CNN variants: test accuracy vs {headline.pass_name(pass_)} time"
        svg_text = charts.pareto_chart(summary, pass_, f"{headline.pass_name(pass_)} time", title,
                                       colors, _chart_id(run, "cnn-pareto"))
        chart = Chart(title, svg(svg_text),
                      "Filled markers and the step line: the Pareto front (no other variant is "
                      "both faster and more accurate).")
    return {"table": tables.cnn_table(summary, run.calibration), "chart": chart}


def _training(run: Run, colors: dict[str, str]) -> dict:
    done = run.training[run.training["status"] == "ok"]
    if done.empty:
        return {"table": None, "chart": None}
    title = "Training curves"
    chart = charts.curves_chart(done, title, colors, _chart_id(run, "training"))
    caption = ("Mean over seeds; the shaded band spans the seeds (min–max) where there are "
               "several." if done.groupby("label")["seed"].nunique().max() > 1
               else "One seed per model: the seed-to-seed spread is unknown.")
    return {"table": tables.training_table(analysis.training_summary(done)),
            "chart": Chart(title, svg(chart), caption), "recipes": _recipes(run, done)}


def _recipes(run: Run, done) -> list[tuple[str, str]]:
    """(model, how its finished runs were trained), in the results' order; none for files from
    before the records kept their trainer options."""
    raw = run.data.get("training") or []
    options = run.training.assign(options=[e.get("options") for e in raw]).loc[done.index]
    out = []
    for model, group in options.groupby("model", sort=False):
        text = recipe.recipe_text(group["options"])
        if text:
            out.append((str(model), text))
    return out


def _scalars(mapping: dict, prefix: str = "") -> list[tuple[str, str]]:
    """The plain (non-container) settings of a config block, as (label, text) pairs."""
    return [(f"{prefix}{k}", fmt.text(v)) for k, v in mapping.items()
            if not isinstance(v, (dict, list, tuple))]


def _method(run: Run) -> dict:
    ok = analysis.ok_cases(run.bench)
    config = run.data.get("config") or {}
    table = config.get("profile_table") if isinstance(config.get("profile_table"), dict) else {}
    return {"rounds": tables.rounds_text(ok), "repetitions": tables.repetitions_text(ok),
            "calibration": card.calibration(run.data),
            "factor": fmt.ratio(stats.FACTOR), "confidence": f"{stats.CONFIDENCE * 100:g} %",
            "min_repetitions": stats.MIN_REPETITIONS,
            "warmup": fmt.text(table.get("warmup_rounds", config.get("warmup_rounds"))),
            "threads": fmt.text(run.data["software"].get("threads")),
            "config": _scalars(config) + _scalars(table, "profile "),
            "anchors": anchors.ANCHORS}


def _palette(run: Run) -> dict[str, str]:
    """One colour per RNN style and one per CNN variant / trained model (separate cycles)."""
    is_cnn = run.bench["group"] == "cnn"
    rnn = run.bench.loc[~is_cnn, "implementation"].astype(str).tolist()
    models = run.bench.loc[is_cnn, "implementation"].astype(str).tolist()
    return {**charts.palette(rnn), **charts.palette(models + run.training["label"].tolist())}


def report_context(run: Run) -> dict:
    """Everything report.html shows, already computed and formatted."""
    colors = _palette(run)
    blocks = rnn_blocks.blocks(run, colors)
    verdicts = analysis.cnn_verdicts(analysis.cnn_summary(run.bench, run.training))
    sweeps = [s for g in analysis.sweep_groups(run.bench)
              if (s := _sweep(run, g, colors)) is not None]
    return {
        "title": f"mnistbench run {run.run_id}",
        "run": run.data, "banners": card.banners(run.data), "card": card.fields(run.data),
        "headline": [s for b in blocks for s in b.headline]
        + [headline.cnn_sentence(v) for v in verdicts],
        "rnn_blocks": blocks,
        "sweeps": sweeps, "deprecations": _deprecations(run.bench),
        "cnn": _cnn(run, colors), "training": _training(run, colors),
        "style_training": style_training.section(run, colors, _chart_id(run, "styles")),
        "study": study.section(run, colors, _chart_id(run, "study")),
        "scaling": scaling.section(run, _chart_id(run, "scaling")),
        "failures": tables.failures_table(
            scaling.failures(run, analysis.failures(run.bench, run.training))),
        "method": _method(run),
    }


def _summary_md(run: Run, context: dict, summary: pd.DataFrame) -> str:
    lines = [f"# mnistbench run {run.run_id}", ""]
    lines += [f"> **{b.title}**: {b.text}" for b in context["banners"]]
    lines += ["", "## Headline", ""]
    lines += [f"- {headline.plain(s)}" for s in context["headline"]] or ["- not measured"]
    lines += ["", "## Is dimension matching needed?", ""]
    lines += [f"> {context['study'].indicative}", ""] if context["study"].indicative else []
    lines += [f"- {headline.plain(s)}" for b in context["study"].blocks
              for s in (b.conclusion, *b.sentences)] or ["- not measured"]
    if context["scaling"].table:
        lines += ["", "## Data-parallel scaling", ""]
        lines += [f"- {s}" for s in context["scaling"].sentences]
        lines += ["", context["scaling"].table.to_markdown()]
    for block in context["style_training"].blocks:
        lines += ["", f"## Trained with every implementation: {block.title}", ""]
        lines += [f"- {s}" for s in block.sentences] + ["", block.table.to_markdown()]
    lines += ["", "## Benchmark cases", "", tables.summary_table(summary).to_markdown()]
    for title, table in (("CNN variants", context["cnn"]["table"]),
                         ("Training", context["training"]["table"])):
        if table:
            lines += ["", f"## {title}", "", table.to_markdown()]
    recipes = context["training"].get("recipes") or []
    if recipes:
        lines += ["", "How each model was trained:", ""]
        lines += [f"- **{model}**: {text}" for model, text in recipes]
    return "\n".join(lines) + "\n"


def write_report(results_path: Path, out_html: Path | None = None) -> list[Path]:
    """Render `results_path` to HTML (default: report.html beside it) plus summary.csv/.md.

    Returns the written paths. Raises bench.errors.ResultsError for a bad results file and
    UsageError for an output path that cannot be written; nothing is half-written either way.
    """
    run = load_run(Path(results_path))
    out_html = Path(out_html) if out_html is not None else run.path.with_name("report.html")
    context = report_context(run)
    summary = tables.summary_frame(run.bench, run.calibration)
    return write_all({
        out_html: render_template("report.html", **context),
        out_html.with_name("summary.csv"): summary.to_csv(index=False),
        out_html.with_name("summary.md"): _summary_md(run, context, summary),
    })
