"""PNG plots of a benchmark run: utility against epochs, and TSTR quality per variant.

matplotlib is imported lazily and drawn through its Agg canvas directly (no pyplot, so no global
backend is switched and nothing needs a display).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def mean_curves(results: list[dict]) -> dict[str, pd.DataFrame]:
    """Variant -> frame indexed by epoch with the mean and std (over seeds) of the curve.
    Curve points are ``[epoch, macro_f1]`` or, since they carry their training wall time,
    ``[epoch, macro_f1, seconds]``."""
    rows = [(r["variant"], r["seed"], point[0], point[1])
            for r in results for point in (r.get("curve") or [])]
    if not rows:
        return {}
    df = pd.DataFrame(rows, columns=["variant", "seed", "epoch", "macro_f1"])
    return {str(v): g.groupby("epoch")["macro_f1"].agg(["mean", lambda x: x.std(ddof=0)])
            .set_axis(["mean", "std"], axis=1)
            for v, g in df.groupby("variant", sort=False)}


def plot_utility_vs_epochs(results: list[dict], path: Path, title: str) -> bool:
    """Mean curve over seeds per variant with a ±1 std band; the dashed line is the same model
    fitted on the real rows. Returns False (and writes nothing) when no result has a curve."""
    from matplotlib.ticker import MaxNLocator

    curves = mean_curves(results)
    if not curves:
        return False
    fig = _figure(7.0, 4.2)
    ax = fig.subplots()
    for variant, c in curves.items():
        x = c.index.to_numpy(dtype=float)
        (line,) = ax.plot(x, c["mean"], marker="o", markersize=3, label=variant)
        ax.fill_between(x, c["mean"] - c["std"], c["mean"] + c["std"], alpha=0.2,
                        color=line.get_color(), linewidth=0)
    reference = [r["curve_reference_macro_f1"] for r in results
                 if r.get("curve_reference_macro_f1") is not None]
    if reference:
        ax.axhline(float(np.mean(reference)), color="black", linestyle="--", linewidth=1,
                   label="real rows (TRTR)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _finish_utility_axes(fig, ax, "epoch", title, path)
    return True


def _finish_utility_axes(fig, ax, xlabel: str, title: str, path: Path) -> None:
    """Labels, grid and legend of a utility plot (TSTR macro-F1 of the curve's HistGB), saved."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("TSTR macro-F1 (HistGB)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path)


def plot_quality(results: list[dict], path: Path, title: str) -> None:
    """Bars of TSTR macro-F1 and minority F1 per variant, error bars ±1 std over seeds."""
    df = pd.DataFrame(results)
    metrics = [("tstr_macro_f1", "macro-F1"), ("tstr_minority_f1", "minority F1")]
    variants = list(dict.fromkeys(df["variant"]))
    fig = _figure(max(5.0, 0.9 * len(variants) + 2.0), 4.0)
    ax = fig.subplots()
    x = np.arange(len(variants))
    width = 0.38
    for i, (key, name) in enumerate(metrics):
        if key not in df:
            continue
        stats = df.groupby("variant", sort=False)[key].agg(["mean", lambda v: v.std(ddof=0)])
        stats = stats.set_axis(["mean", "std"], axis=1).reindex(variants)
        ax.bar(x + (i - 0.5) * width, stats["mean"], width, yerr=stats["std"], capsize=3,
               label=name)
    ax.set_xticks(x, variants, rotation=30, ha="right")
    ax.set_ylabel("TSTR score (mean of 4 classifiers)")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path)


def plot_time_to_quality(points: pd.DataFrame, references: dict[int, float], path: Path,
                         title: str, *, fraction: float = 0.95) -> None:
    """Mean macro-F1 over seeds (±1 std band) against mean training seconds, one line per
    family of :func:`bench.time_to_quality.curve_frame` (points joined by epoch); the dashed
    line is the same model on the real rows, the dotted one ``fraction`` of it."""
    fig = _figure(7.0, 4.2)
    ax = fig.subplots()
    for fam, g in points.groupby("family", sort=False):
        c = g.groupby("epoch").agg(seconds=("seconds", "mean"), mean=("macro_f1", "mean"),
                                   std=("macro_f1", lambda x: x.std(ddof=0)))
        c = c.sort_values("seconds")
        style = {"marker": "s", "linestyle": ":"} if fam == "ctgan" else {"marker": "o"}
        (line,) = ax.plot(c["seconds"], c["mean"], markersize=3, label=str(fam), **style)
        ax.fill_between(c["seconds"], c["mean"] - c["std"], c["mean"] + c["std"], alpha=0.2,
                        color=line.get_color(), linewidth=0)
        if fam == "ctgan":  # one run per point: name its epochs
            for epoch, row in c.iterrows():
                ax.annotate(f"{epoch} ep", (row["seconds"], row["mean"]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points", color=line.get_color())
    if references:
        reference = float(np.mean(list(references.values())))
        ax.axhline(reference, color="black", linestyle="--", linewidth=1,
                   label="real rows (TRTR)")
        ax.axhline(fraction * reference, color="grey", linestyle=":", linewidth=1,
                   label=f"{fraction:.0%} of TRTR")
    _finish_utility_axes(fig, ax, "training wall time (s; set-up included, curve evaluations "
                         "excluded)", title, path)
