"""Charts as inline SVG strings, drawn by matplotlib (Agg, no GUI, no files).

Text from results files (implementation names, labels) only ever reaches the SVG through
matplotlib, which escapes it; math parsing is off so a `$` in a name is just a dollar sign.
Every chart shows its spread: IQR whiskers on times, seed-to-seed bars or bands on accuracy.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import (  # noqa: E402
    FuncFormatter,
    LogLocator,
    NullFormatter,
)

from reports import fmt  # noqa: E402

WIDTH_IN = 6.0  # inches; about 580 px in the page, two charts side by side
_RC = {"svg.fonttype": "none", "text.parse_math": False, "font.family": "sans-serif",
       "font.sans-serif": ["DejaVu Sans"], "font.size": 9, "axes.spines.top": False,
       "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "axes.axisbelow": True,
       "axes.titlesize": 10, "axes.titleweight": "bold", "legend.frameon": False}
# Drop the RDF block (date, creator URL): the SVG carries only the drawing.
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_COLORS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#4b5563", "#65a30d", "#9333ea")


def palette(names: list[str]) -> dict[str, str]:
    """A stable colour per name (sorted), so a style has one colour in every chart."""
    return {name: _COLORS[i % len(_COLORS)] for i, name in enumerate(sorted(set(names)))}


@contextmanager
def _figure(height_in: float, salt: str, ncols: int = 1,
            width_in: float = WIDTH_IN) -> Iterator[tuple[Figure, list]]:
    with matplotlib.rc_context({**_RC, "svg.hashsalt": salt}):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        yield fig, list(np.atleast_1d(fig.subplots(1, ncols)))


def _svg(fig: Figure, title: str, salt: str) -> str:
    """The figure as an <svg> element (no XML prolog) with a <title> for screen readers."""
    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata=_NO_METADATA)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    head_end = svg.index(">") + 1
    head = svg[:head_end].replace("<svg ", '<svg role="img" ', 1)
    return f"{head}\n <title>{escape(title)}</title>{svg[head_end:]}"


def _unit(values: pd.Series) -> tuple[str, float]:
    return fmt.duration_unit(float(values.max())) if len(values) else ("s", 1.0)


def _labels(cases: pd.DataFrame) -> list[str]:
    """Implementation names, or full case names where one implementation appears twice; each
    marked (unstable) / (noisy) when its repetitions disagree / its rounds scatter."""
    impls = cases["implementation"].tolist()
    names = impls if len(set(impls)) == len(impls) else cases["name"].tolist()
    marks = [" (unstable)" if u else " (noisy)" if n else ""
             for u, n in zip(cases["unstable"], cases["noisy"], strict=True)]
    return [n + m for n, m in zip(names, marks, strict=True)]


def _plain_log_ticks(axis) -> None:
    """Log-scale ticks as plain numbers: the default formatter writes mathtext, which stays
    literal with math parsing off."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _strip(ax, ordered: pd.DataFrame, scale: float) -> None:
    """Each case's repetition medians as points on its row (a small vertical offset each), the
    pooled median as a bar; unstable cases in red."""
    for y, (_, case) in enumerate(ordered.iterrows()):
        reps = np.asarray(case["rep_medians"], dtype=float) * scale
        offsets = np.linspace(-0.18, 0.18, len(reps)) if len(reps) > 1 else np.zeros(len(reps))
        color = "#dc2626" if case["unstable"] else "#111827"
        ax.plot([case["median"] * scale] * 2, [y - 0.3, y + 0.3], color="#9ca3af", lw=1.5)
        ax.scatter(reps, y + offsets, s=16, color=color, zorder=3)
    ax.set_xscale("log")  # equal relative spreads look equally wide, fast case or slow
    _plain_log_ticks(ax.xaxis)
    ax.margins(x=0.15)


def bar_medians(cases: pd.DataFrame, title: str, colors: dict[str, str], salt: str) -> str:
    """Horizontal bars of median time, fastest on top, IQR whiskers, value at each bar's end;
    beside them a strip plot of every repetition's median (fresh processes) on the same rows."""
    ordered = cases.sort_values("median", ascending=False)
    unit, scale = _unit(ordered["median"])
    med = ordered["median"].to_numpy() * scale
    err = np.vstack([med - ordered["q1"].to_numpy() * scale,
                     ordered["q3"].to_numpy() * scale - med])
    with _figure(0.9 + 0.32 * len(ordered), salt, ncols=2, width_in=WIDTH_IN + 3.0) as (
            fig, (ax, strip)):
        pos = np.arange(len(ordered))
        ax.barh(pos, med, xerr=np.clip(err, 0, None), capsize=3, height=0.6,
                color=[colors.get(i, _COLORS[0]) for i in ordered["implementation"]],
                alpha=0.85, error_kw={"elinewidth": 1, "ecolor": "#111827"})
        ax.set_yticks(pos, _labels(ordered))
        ends = med + np.clip(err[1], 0, None)  # label after the whisker, not on it
        for y, (end, seconds) in enumerate(zip(ends, ordered["median"], strict=True)):
            ax.text(end, y, f"  {fmt.duration(seconds)}", va="center", fontsize=8)
        ax.set_xlim(0, ends.max() * 1.3)
        ax.set_xlabel(f"median time per call ({unit}); whiskers: IQR")
        ax.set_title(title, loc="left")
        _strip(strip, ordered, scale)
        strip.set_yticks(pos, [""] * len(pos))
        strip.set_ylim(ax.get_ylim())
        strip.set_xlabel(f"repetition medians ({unit}, log scale); grey: pooled median")
        for a in (ax, strip):
            a.grid(axis="y", visible=False)
        return _svg(fig, title, salt)


def log_y_wanted(values: np.ndarray) -> bool:
    """A log scale once the slowest style is 5x the fastest: on a linear axis the fast ones
    would be a flat line at the bottom."""
    values = values[values > 0]
    return values.size > 1 and values.max() / values.min() > 5


def sweep_chart(cases: pd.DataFrame, x_col: str, x_label: str, fits: pd.DataFrame | None,
                title: str, colors: dict[str, str], salt: str) -> str:
    """Median time against one swept parameter per style, each repetition's median as a dot;
    dashed least-squares lines if `fits`. Log time axis when the styles span more than 5x."""
    unit, scale = _unit(cases["median"])
    log_y = log_y_wanted(cases["median"].to_numpy(float))
    with _figure(3.6, salt) as (fig, (ax,)):
        for impl, part in cases.sort_values(x_col).groupby("implementation", sort=True):
            x, med = part[x_col].to_numpy(float), part["median"].to_numpy() * scale
            err = np.vstack([med - part["q1"].to_numpy() * scale,
                             part["q3"].to_numpy() * scale - med])
            color = colors.get(impl, _COLORS[0])
            ax.errorbar(x, med, yerr=np.clip(err, 0, None), marker="o", ms=4, capsize=3,
                        color=color, label=impl)
            dots = [(xi, m * scale) for xi, ms in zip(x, part["rep_medians"], strict=True)
                    for m in ms]
            if dots:
                ax.scatter(*zip(*dots, strict=True), s=7, color=color, alpha=0.5, lw=0)
            fit = None if fits is None else fits[fits["implementation"] == impl]
            if fit is not None and len(fit) and np.isfinite(fit["slope"].iloc[0]):
                slope, intercept, r2 = fit[["slope", "intercept", "r2"]].iloc[0]
                line = (slope * x + intercept) * scale
                keep = line > 0  # a negative intercept cannot be drawn on a log axis
                ax.plot(x[keep], line[keep], "--", color=color, lw=1,
                        label=f"{impl} linear fit, R² = {r2:.3f}")
        ax.set_xlabel(x_label)
        if log_y:
            ax.set_yscale("log")
            _plain_log_ticks(ax.yaxis)
            ax.set_ylabel(f"median time ({unit}, log scale)")
        else:
            ax.set_ylim(bottom=0)
            ax.set_ylabel(f"median time ({unit})")
        ax.set_title(title, loc="left")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return _svg(fig, title, salt)


def pareto_chart(summary: pd.DataFrame, time_col: str, time_label: str, title: str,
                 colors: dict[str, str], salt: str) -> str:
    """Accuracy (mean, seed sd bars) against time (median, IQR bars); the Pareto front joined."""
    data = summary.dropna(subset=[f"{time_col}_median", "acc_mean"])
    unit, scale = _unit(data[f"{time_col}_median"])
    with _figure(3.8, salt, width_in=7.5) as (fig, (ax,)):
        for _, row in data.iterrows():
            x = row[f"{time_col}_median"] * scale
            xerr = np.nan_to_num([[x - row[f"{time_col}_q1"] * scale],
                                  [row[f"{time_col}_q3"] * scale - x]])
            sd = 0.0 if pd.isna(row["acc_sd"]) else row["acc_sd"] * 100
            color = colors.get(row["implementation"], _COLORS[0])
            ax.errorbar(x, row["acc_mean"] * 100, xerr=np.clip(xerr, 0, None), yerr=sd, fmt="o",
                        ms=7 if row["pareto"] else 5, mfc=color if row["pareto"] else "white",
                        color=color, capsize=2)
            ax.annotate(row["implementation"], (x, row["acc_mean"] * 100), fontsize=8,
                        xytext=(6, 4), textcoords="offset points")
        front = data[data["pareto"]].sort_values(f"{time_col}_median")
        ax.step(front[f"{time_col}_median"] * scale, front["acc_mean"] * 100, where="post",
                color="#111827", lw=1, alpha=0.6, label="Pareto front (filled markers)")
        ax.set_xlabel(f"{time_label}, median ({unit}); bars: IQR")
        ax.set_ylabel("test accuracy (%); bars: seed sd")
        ax.set_title(title, loc="left")
        ax.legend(fontsize=8, loc="best")
        ax.margins(x=0.15, y=0.15)  # room for the point labels
        return _svg(fig, title, salt)


def _epochs_trained(e: dict) -> float:
    """Where an epoch record ended, in epochs: a partial last epoch (a fractional cap, a stop at
    the target) at its fraction, 0.75 rather than 1."""
    return round(e["epoch"] - 1 + e.get("fraction", 1.0), 3)


def _curve(ax, runs: pd.DataFrame, metric: str, color: str, label: str, percent: bool) -> None:
    rows = [{"epoch": _epochs_trained(e), "value": e[metric]} for eps in runs["epochs"]
            for e in eps if e.get(metric) is not None]
    if not rows:
        return
    per_epoch = pd.DataFrame(rows).groupby("epoch")["value"].agg(["mean", "min", "max"])
    k = 100.0 if percent else 1.0
    ax.plot(per_epoch.index, per_epoch["mean"] * k, marker="o", ms=3, color=color, label=label)
    if len(runs) > 1:  # the seed-to-seed spread as a band
        ax.fill_between(per_epoch.index, per_epoch["min"] * k, per_epoch["max"] * k,
                        color=color, alpha=0.15, lw=0)


def curves_chart(training: pd.DataFrame, title: str, colors: dict[str, str], salt: str) -> str:
    """Test accuracy and train loss per epoch, mean over seeds with a min–max band."""
    with _figure(3.4, salt, ncols=2, width_in=9.5) as (fig, (acc_ax, loss_ax)):
        for (label, device), runs in training.groupby(["label", "device"], sort=True):
            name = f"{label} ({device})" if training["device"].nunique() > 1 else label
            color = colors.get(label, _COLORS[0])
            _curve(acc_ax, runs, "test_acc", color, name, percent=True)
            _curve(loss_ax, runs, "train_loss", color, name, percent=False)
        acc_ax.set(xlabel="epochs trained", ylabel="test accuracy (%)", title="Test accuracy")
        loss_ax.set(xlabel="epochs trained", ylabel="train loss", title="Train loss")
        last = max((len(e) for e in training["epochs"]), default=1)
        for ax in (acc_ax, loss_ax):  # whole epochs only, with room around a single one
            ax.set_xticks(range(1, last + 1, max(1, last // 10)))
            ax.set_xlim(0.5, last + 0.5)
        loss_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        return _svg(fig, title, salt)


def speedup_chart(rows: pd.DataFrame, title: str, salt: str) -> str:
    """Speed-up of each matched case over its baseline (log scale); real differences in blue.

    Whiskers: the verdict's bootstrap interval (bench.timing.stats.compare), as a speed-up.
    """
    ordered = rows.sort_values("speedup")
    with _figure(0.9 + 0.26 * len(ordered), salt, width_in=8.0) as (fig, (ax,)):
        pos = np.arange(len(ordered))
        real = ordered["significant"].to_numpy(bool)
        speedup = ordered["speedup"].to_numpy(float)
        err = np.vstack([speedup - ordered["speedup_low"].to_numpy(float),
                         ordered["speedup_high"].to_numpy(float) - speedup])
        ax.barh(pos, speedup, height=0.6, color=np.where(real, "#2563eb", "#cbd5e1"),
                xerr=np.clip(err, 0, None), capsize=2,
                error_kw={"elinewidth": 0.8, "ecolor": "#111827"})
        ax.axvline(1.0, color="#111827", lw=1)
        ax.set_xscale("log")
        # Plain tick labels: the default log formatter writes mathtext, which stays literal here.
        lo, hi = ax.get_xlim()
        dense = np.log10(hi / lo) <= 2  # 1-2-5 ticks while they fit, decades beyond
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if dense else (1.0,)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(pos, ordered["case"].tolist(), fontsize=7)
        ax.set_xlabel("speed-up over the baseline run (log scale)")  # the caption says more
        ax.set_title(title, loc="left")
        ax.grid(axis="y", visible=False)
        return _svg(fig, title, salt)


def strip_id(text: str) -> str:
    """A string safe to use as an SVG id salt / HTML id fragment (letters, digits, dashes)."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "chart"


def _seed_curve(ax, curve: list[dict], color: str, highlight: bool, label: str | None) -> None:
    time = [p["time_s"] for p in curve]
    acc = [p["test_acc"] * 100 for p in curve]
    ax.plot(time, acc, marker="o", ms=3.5 if highlight else 2, lw=2.0 if highlight else 0.8,
            color=color, alpha=1.0 if highlight else 0.35, zorder=3 if highlight else 2,
            label=label)


def seed_curves_chart(runs: pd.DataFrame, panels: list[str], target: float | None, title: str,
                      colors: dict[str, str], salt: str) -> str:
    """Test accuracy against training wall time, one panel per variant (`panels`: the values of
    `runs["panel"]`), one line per seed (`curve`), the median seed (`median_seed`) drawn bold.

    The accuracy axis is zoomed on the end of training (1 point below the lowest final accuracy
    or the target) and always shows the target: the early points climb into view from below.
    """
    goal = [target * 100] if target is not None else []
    floor = min([c[-1]["test_acc"] * 100 for c in runs["curve"] if c] + goal) - 1.0
    ceiling = max([p["test_acc"] * 100 for c in runs["curve"] for p in c] + goal) + 0.3
    with _figure(3.2, salt, ncols=len(panels), width_in=min(2.6 * len(panels) + 1.0, 11.0)) as (
            fig, axes):
        for ax, panel in zip(axes, panels, strict=True):
            part = runs[runs["panel"] == panel].sort_values(["median_seed", "seed"])
            for _, r in part.iterrows():
                _seed_curve(ax, r["curve"], colors.get(r["label"], _COLORS[0]),
                            bool(r["median_seed"]),
                            f"median seed ({r['seed']})" if r["median_seed"] else None)
            if target is not None:
                ax.axhline(target * 100, color="#111827", lw=0.8, ls="--")
            ax.set_ylim(floor, ceiling)
            ax.set_xlim(left=0)
            ax.set_title(str(panel), loc="left")
            ax.set_xlabel("training wall time (s)")
            ax.legend(fontsize=7, loc="lower right")
        axes[0].set_ylabel("test accuracy (%)")
        fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
        return _svg(fig, title, salt)


def time_to_target_chart(rows: pd.DataFrame, target_label: str, title: str,
                         colors: dict[str, str], salt: str) -> str:
    """Each variant's time-to-target per seed as points on its row (`times`, inf = not
    reached), its median as a bar (`median`, when finite), and how many seeds reached it."""
    finite = [t for times in rows["times"] for t in times if np.isfinite(t)]
    with _figure(0.9 + 0.36 * len(rows), salt, width_in=7.5) as (fig, (ax,)):
        for y, (_, r) in enumerate(rows.iloc[::-1].iterrows()):
            done = [t for t in r["times"] if np.isfinite(t)]
            color = colors.get(r["label"], _COLORS[0])
            offsets = np.linspace(-0.15, 0.15, len(done)) if len(done) > 1 else [0.0] * len(done)
            ax.scatter(done, y + np.asarray(offsets), s=22, color=color, zorder=3)
            if np.isfinite(r["median"]):
                ax.plot([r["median"]] * 2, [y - 0.32, y + 0.32], color="#111827", lw=1.5)
            ax.annotate(f"{len(done)} of {len(r['times'])} reached", (1.0, y),
                        xycoords=("axes fraction", "data"), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(range(len(rows)), rows["name"].iloc[::-1].tolist())
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(0, max(finite, default=1.0) * 1.1)
        ax.set_xlabel(f"training wall time to {target_label} (s); bar: median over all seeds")
        ax.set_title(title, loc="left")
        ax.grid(axis="y", visible=False)
        return _svg(fig, title, salt)


def scaling_chart(rows: pd.DataFrame, title: str, colors: dict[str, str], salt: str) -> str:
    """Data-parallel scaling (issue 14), one line per model over its world sizes (`world_size`):
    images/s with perfect scaling from world size 1 dashed, and efficiency (1 = perfect)."""
    sizes = sorted(rows["world_size"].unique())
    with _figure(3.2, salt, ncols=2, width_in=9.5) as (fig, (rate_ax, eff_ax)):
        for label, part in rows.groupby("label", sort=True):
            part = part.sort_values("world_size")
            color = colors.get(label, _COLORS[0])
            rate_ax.plot(part["world_size"], part["images_per_s"], marker="o", ms=4,
                         color=color, label=label)
            base = part[part["world_size"] == 1]["images_per_s"]
            if len(base):
                rate_ax.plot(sizes, [base.iloc[0] * s for s in sizes], ls="--", lw=0.8,
                             color=color)
            eff = part.dropna(subset=["efficiency"])
            eff_ax.plot(eff["world_size"], eff["efficiency"] * 100, marker="o", ms=4,
                        color=color, label=label)
        eff_ax.axhline(100, color="#111827", lw=0.8, ls="--")
        eff_ax.set_ylim(0, max(110.0, float(rows["efficiency"].max() * 100 + 10)
                               if rows["efficiency"].notna().any() else 110.0))
        for ax in (rate_ax, eff_ax):
            ax.set_xscale("log", base=2)
            ax.set_xticks(sizes, [str(s) for s in sizes])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("world size (ranks)")
        rate_ax.set(ylabel="images/s", title="Throughput")
        if log_y_wanted(rows["images_per_s"].to_numpy(float)):  # models far apart in speed
            rate_ax.set_yscale("log")
            rate_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            rate_ax.set_ylim(bottom=0)
        eff_ax.set(ylabel="efficiency (%)", title="Efficiency vs world size 1")
        eff_ax.legend(fontsize=8, loc="lower left")
        fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
        return _svg(fig, title, salt)


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")


def style_curves_chart(runs: list[tuple[str, list[int], list[float], list[float]]], title: str,
                       colors: dict[str, str], salt: str) -> str:
    """Issue 13: one model trained in several styles, `runs` = (style, images seen, training
    time s, test accuracy 0..1) per evaluation point. Left: accuracy vs images (where the curves
    should coincide: markers shrink from the first style to the last, so each stays visible on
    top of the one before); right: accuracy vs training wall time (log when 5× apart)."""
    with _figure(3.4, salt, ncols=2, width_in=9.5) as (fig, (img_ax, time_ax)):
        for i, (style, images, times, acc) in enumerate(runs):
            style_kw = {"color": colors.get(style, _COLORS[i % len(_COLORS)]),
                        "marker": _MARKERS[i % len(_MARKERS)], "lw": 1.0, "label": style,
                        "ms": max(3.0, 9.0 - 0.8 * i), "mfc": "none"}
            img_ax.plot(images, [a * 100 for a in acc], **style_kw)
            time_ax.plot(times, [a * 100 for a in acc], **style_kw)
        img_ax.set(xlabel="training images seen", ylabel="test accuracy (%)",
                   title="Accuracy vs images seen")
        time_ax.set(xlabel="training wall time (s)", title="Accuracy vs training time")
        if log_y_wanted(np.asarray([times[-1] for _, _, times, _ in runs if times], float)):
            time_ax.set_xscale("log")
            time_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        time_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
        return _svg(fig, title, salt)
