"""The scaling runs' report: log-log slopes, the Markdown tables and the two plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def loglog_slope(x: list[float], y: list[float]) -> float | None:
    """Slope of log(y) against log(x) (least squares); None with fewer than 2 distinct x."""
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = (x_arr > 0) & (y_arr > 0)
    if len(np.unique(x_arr[ok])) < 2:
        return None
    return float(np.polyfit(np.log(x_arr[ok]), np.log(y_arr[ok]), 1)[0])


def slopes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Log-log slope of seconds per epoch against parties (parties sweep) and rows (rows sweep)
    per strategy."""
    out = []
    for sweep, x_key in (("parties", "n_parties"), ("rows", "rows")):
        for strategy in dict.fromkeys(r["strategy"] for r in records):
            pts = [r for r in records if r["sweep"] == sweep and r["strategy"] == strategy
                   and "seconds_per_epoch" in r]
            if not pts:
                continue
            slope = loglog_slope([r[x_key] for r in pts], [r["seconds_per_epoch"] for r in pts])
            out.append({"sweep": sweep, "strategy": strategy, "x": x_key, "n_points": len(pts),
                        "slope": slope,
                        "at_most_linear": None if slope is None else bool(slope <= 1.0)})
    return out


def _line_name(strategy: str, sweep: str, fits: list[dict[str, Any]]) -> str:
    """The strategy's legend entry, with its log-log slope on this sweep when there is one."""
    slope = next((f["slope"] for f in fits
                  if f["sweep"] == sweep and f["strategy"] == strategy), None)
    return strategy if slope is None else f"{strategy} (slope {slope:.2f})"


def plot_sweep(records: list[dict[str, Any]], sweep: str, x_key: str, xlabel: str,
          fits: list[dict[str, Any]], path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    pts = [r for r in records if r["sweep"] == sweep and "seconds_per_epoch" in r]
    if not pts:
        return False
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for strategy in dict.fromkeys(r["strategy"] for r in pts):
        mine = [r for r in pts if r["strategy"] == strategy]
        ax.plot([r[x_key] for r in mine], [r["seconds_per_epoch"] for r in mine], "o-",
                label=_line_name(strategy, sweep, fits))
    first = min(pts, key=lambda r: r[x_key])
    xs = np.array(sorted({r[x_key] for r in pts}), dtype=float)
    ax.plot(xs, first["seconds_per_epoch"] * xs / xs[0], "k--", lw=0.8,
            label="linear (slope 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xticks(xs, [f"{x:g}" for x in xs])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("seconds per epoch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def markdown(payload: dict[str, Any]) -> str:
    """The report: header with command and date, one table per sweep, the slopes."""
    s = payload["settings"]
    m = payload["machine"]
    lines = [
        f"### Scaling: seconds per epoch vs parties and rows ({payload['date']})", "",
        f"Command: `{payload['command']}`", "",
        f"Adult rows; size ratio {s['size_ratio']:g}, Dirichlet β={s['beta']:g}, seed "
        f"{s['seed']}, batch {s['batch_size']}, {s['warmup']} warm-up + {s['epochs']} timed "
        f"epoch(s) per point, device {s['device']}, "
        f"{m['torch_threads']} torch thread(s) on {m['cpu_count']} cores, torch "
        f"{m['torch']}. Rows sweep: rows drawn with replacement from the Adult training rows.",
        "",
        "s/epoch: mean over the timed epochs of the strategy's own epoch time (`history`; "
        "fedsyn's leaves out its weight averaging); wall s/epoch: wall clock between the ends of "
        "consecutive epochs; ms/step: s/epoch ÷ generator steps per epoch; peak RSS: the "
        "peak resident memory of the process during the fit ("
        + ("one process for all points, so it includes what earlier points left allocated)."
           if s["in_process"] else "a fresh process for each fit).")
        + " Growth is called at most linear when the slope is ≤ 1.",
    ]
    cols = ["strategy", "K", "rows", "size ratio", "party rows min–max", "steps/epoch",
            "s/epoch", "ms/step", "wall s/epoch", "peak RSS MB"]
    for sweep, title in (("parties", "Parties (fixed rows)"), ("rows", "Rows (fixed K)")):
        pts = [r for r in payload["points"] if r["sweep"] == sweep]
        if not pts:
            continue
        lines += ["", f"#### {title}", "", "| " + " | ".join(cols) + " |",
                  "|---" * len(cols) + "|"]
        for r in pts:
            ratio = f"{r['size_ratio']:g}" + (" (lowered)" if r["size_ratio_lowered"] else "")
            head = [r["strategy"], str(r["n_parties"]), str(r["rows"]), ratio,
                    f"{r['party_rows_min']}–{r['party_rows_max']}"]
            wall = "–" if r.get("wall_seconds_per_epoch") is None else (
                f"{r['wall_seconds_per_epoch']:.3f}")
            if "skipped" in r:
                lines.append("| " + " | ".join([*head, f"skipped: {r['skipped']}",
                                                 *["–"] * 4]) + " |")
                continue
            lines.append("| " + " | ".join(head + [
                str(r["steps_per_epoch"]), f"{r['seconds_per_epoch']:.3f}",
                f"{r['seconds_per_step'] * 1000:.2f}", wall, f"{r['peak_rss_mb']:.0f}"]) + " |")
    if payload["slopes"]:
        lines += ["", "#### Log-log slopes of s/epoch", "",
                  "| sweep | strategy | points | slope | growth |", "|---|---|---|---|---|"]
        for f in payload["slopes"]:
            if f["slope"] is None:
                verdict, slope = "– (one point)", "–"
            else:
                slope = f"{f['slope']:.3f}"
                verdict = ("at most linear (slope ≤ 1)" if f["at_most_linear"]
                           else "faster than linear (slope > 1)")
            lines.append(f"| {f['sweep']} | {f['strategy']} | {f['n_points']} | {slope} | "
                         f"{verdict} |")
    return "\n".join(lines) + "\n"
