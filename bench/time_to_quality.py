"""Time to quality: utility against training wall time, per variant, from benchmark JSONs.

Reads one or more result JSONs of one scenario (several are merged as ``--merge`` does) and
writes, next to the first one unless ``--out`` says otherwise:

- ``<name>_time_to_quality.png``: mean macro-F1 over seeds (±1 std band) against mean training
  seconds, one line per variant; the ctgan package's runs at several epoch counts
  (``ctgan``, ``ctgan-Nep``) form one line, one point per run;
- ``<name>_time_to_quality.md``: for a few wall-time budgets, each variant's best macro-F1
  reached within the budget (mean ± std over seeds), its seconds to reach a fraction (95 %) of
  the real rows' score, and a headline line saying who is ahead at equal wall time.

The utility is the benchmark's utility curve metric for every variant: macro-F1 of one HistGB
trained on the synthetic rows and scored on the real test set (ctgan's final rows are scored by
the same model; the table's TSTR macro-F1 is a mean of four models and is not used here). The
seconds are the training wall time at which each point was taken: set-up (encoder, data
transformer) plus the epochs so far, the curve's own evaluations excluded; ctgan's point is its
whole ``fit`` call. Curve points written before they carried seconds (``[epoch, macro_f1]``) get
``setup_seconds + epoch × seconds_per_epoch`` instead, and the table says so.

Example::

    python scripts/time_to_quality.py results/tmp/adult_K5_r20_b0.1_e30.json
    python scripts/time_to_quality.py a.json b.json --budgets 60 120 240 --name adult
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.options import refuse_tracked

__all__ = ["budget_table", "curve_frame", "main", "time_to_reach"]

DEFAULT_BUDGETS = (60.0, 120.0, 240.0)


def family(variant: str) -> str:
    """The line a result belongs to: every ctgan run (``ctgan``, ``ctgan-Nep``) is ``ctgan``."""
    return "ctgan" if variant == "ctgan" or variant.startswith("ctgan-") else variant


def curve_points(result: dict[str, Any]) -> tuple[list[tuple[int, float, float]], bool]:
    """``(epoch, macro_f1, seconds)`` of a result's curve and whether any seconds were estimated.

    A point of the older form ``[epoch, macro_f1]`` gets ``setup_seconds + epoch ×
    seconds_per_epoch``; without those two values it is left out.
    """
    points, estimated = [], False
    setup, per_epoch = result.get("setup_seconds"), result.get("seconds_per_epoch")
    for point in result.get("curve") or []:
        epoch, f1 = int(point[0]), float(point[1])
        if len(point) > 2 and point[2] is not None:
            points.append((epoch, f1, float(point[2])))
        elif setup is not None and per_epoch is not None and not (
                math.isnan(setup) or math.isnan(per_epoch)):
            points.append((epoch, f1, setup + epoch * per_epoch))
            estimated = True
    return points, estimated


def curve_frame(results: list[dict[str, Any]]) -> tuple[pd.DataFrame, list[str]]:
    """One row per curve point of the finished results (trtr left out): family, variant, seed,
    epoch, macro_f1, seconds; and the variants whose seconds were estimated."""
    rows, estimated = [], []
    for r in results:
        if r.get("error") or r["variant"] == "trtr":
            continue
        points, guessed = curve_points(r)
        if guessed and r["variant"] not in estimated:
            estimated.append(r["variant"])
        rows += [(family(r["variant"]), r["variant"], r["seed"], *p) for p in points]
    columns = ["family", "variant", "seed", "epoch", "macro_f1", "seconds"]
    return pd.DataFrame(rows, columns=columns), estimated


def references(results: list[dict[str, Any]]) -> dict[int, float]:
    """Seed -> the curve model's macro-F1 on the real rows (the trtr rows)."""
    return {r["seed"]: float(r["curve_reference_macro_f1"]) for r in results
            if r["variant"] == "trtr" and r.get("curve_reference_macro_f1") is not None}


def _stats(values: list[float], n: int) -> dict[str, float]:
    return {"mean": float(np.mean(values)) if values else float("nan"),
            "std": float(np.std(values)) if values else float("nan"),
            "seeds": len(values), "of": n}


def best_within(points: pd.DataFrame, budget: float) -> dict[str, dict[str, float]]:
    """Family -> mean and std over seeds of the best macro-F1 among the points taken within
    ``budget`` seconds (seeds with no such point are left out and counted in ``seeds``)."""
    out = {}
    for fam, g in points.groupby("family", sort=False):
        seeds = g["seed"].unique()
        best = g[g["seconds"] <= budget].groupby("seed")["macro_f1"].max()
        out[str(fam)] = _stats(best.tolist(), len(seeds))
    return out


def time_to_reach(points: pd.DataFrame, refs: dict[int, float],
                  fraction: float) -> dict[str, dict[str, float]]:
    """Family -> mean and std over seeds of the first seconds at which macro-F1 reaches
    ``fraction`` × that seed's real-rows reference (seeds that never reach it, or have no
    reference, are left out and counted in ``seeds``)."""
    out = {}
    for fam, g in points.groupby("family", sort=False):
        times = []
        for seed, s in g.groupby("seed"):
            if seed in refs:
                hit = s[s["macro_f1"] >= fraction * refs[seed]]
                if len(hit):
                    times.append(float(hit["seconds"].min()))
        out[str(fam)] = _stats(times, g["seed"].nunique())
    return out


def default_budgets(points: pd.DataFrame) -> list[float]:
    """The ctgan runs' mean fit seconds (one budget per run, rounded up to a second), else
    :data:`DEFAULT_BUDGETS`."""
    ctgan = points[points["family"] == "ctgan"]
    if ctgan.empty:
        return list(DEFAULT_BUDGETS)
    return sorted({float(math.ceil(s)) for s in ctgan.groupby("variant")["seconds"].mean()})


def _cell(s: dict[str, float], digits: int) -> str:
    if not s["seeds"]:
        return "–"
    text = f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"
    return text + (f" ({s['seeds']}/{s['of']} seeds)" if s["seeds"] < s["of"] else "")


def headline(budgets: list[float], best: list[dict[str, dict[str, float]]]) -> str:
    """Who is ahead at each budget (highest mean over the seeds that have a point in it)."""
    parts, leaders = [], []
    for budget, row in zip(budgets, best):
        ranked = sorted(((s["mean"], fam) for fam, s in row.items() if s["seeds"]),
                        reverse=True)
        if not ranked:
            parts.append(f"≤ {budget:g} s: no variant has a point")
            continue
        leaders.append(ranked[0][1])
        parts.append(f"≤ {budget:g} s: " + ", ".join(f"{fam} {m:.3f}" for m, fam in ranked))
    if not leaders:
        return "At equal wall time: no variant has a curve point within the budgets."
    top = max(dict.fromkeys(leaders), key=leaders.count)
    return (f"At equal wall time, {top} is ahead at {leaders.count(top)} of {len(budgets)} "
            f"budgets ({'; '.join(parts)}).")


def budget_table(points: pd.DataFrame, refs: dict[int, float], budgets: list[float],
                 fraction: float = 0.95) -> str:
    """The Markdown table (one row per variant) and the headline line below it."""
    best = [best_within(points, b) for b in budgets]
    reach = time_to_reach(points, refs, fraction)
    target = f"s to {fraction:.0%} of TRTR"
    lines = ["| variant | " + " | ".join(f"best ≤ {b:g} s" for b in budgets) + f" | {target} |",
             "|---" * (len(budgets) + 2) + "|"]
    for fam in points["family"].unique():
        cells = [_cell(row[fam], 3) for row in best]
        r = reach[fam]
        cells.append(_cell(r, 1) if r["seeds"] else "not reached")
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", headline(budgets, best)])


NOTE = (
    "macro-F1: one HistGB (the utility curve's model) trained on the synthetic rows and scored "
    "on the real test set, for every variant; ctgan's final rows are scored by the same model "
    "(not the table's mean of four models). Seconds: training wall time when the point was "
    "taken (set-up and epochs so far, the curve's evaluations excluded; ctgan: its whole fit, "
    "one run per epoch count). best ≤ B s: per seed the best point taken within B seconds (a "
    "library variant's best epoch so far; for ctgan the best of its runs that finished within "
    "B), then mean ± std over seeds. TRTR: the same model on the real rows, per seed. Seconds "
    "compare only between jobs of one machine under the same load.")


def _load(paths: list[Path]) -> tuple[list[dict], dict[str, Any]]:
    from bench.report import load_results, merge_runs

    return load_results(paths[0]) if len(paths) == 1 else merge_runs(paths)


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("results", type=Path, nargs="+", metavar="JSON",
                   help="benchmark result JSONs of one scenario (run with --curve-every > 0)")
    p.add_argument("--budgets", type=float, nargs="+", metavar="S",
                   help="wall-time budgets in seconds (default: the ctgan runs' mean fit "
                        f"seconds, else {' '.join(f'{b:g}' for b in DEFAULT_BUDGETS)})")
    p.add_argument("--fraction", type=float, default=0.95,
                   help="the share of the real rows' score to reach (default 0.95)")
    p.add_argument("--out", type=Path, help="output folder (default: the first JSON's)")
    p.add_argument("--name", help="file name stem (default: the first JSON's)")
    return p


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Command-line entry point; prints the Markdown and returns the exit status."""
    from bench.plots import plot_time_to_quality
    from bench.report import plot_title

    p = _parser(prog)
    a = p.parse_args(argv)
    missing = [str(path) for path in a.results if not path.is_file()]
    if missing:
        p.error(f"no such file: {', '.join(missing)}")
    if not 0 < a.fraction <= 1 or (a.budgets and min(a.budgets) <= 0):
        p.error("--fraction must be in (0, 1] and --budgets > 0")
    results, meta = _load(a.results)
    points, estimated = curve_frame(results)
    if points.empty:
        p.error("no result has a utility curve: run the benchmark with --curve-every > 0")
    out, name = a.out or a.results[0].parent, a.name or a.results[0].stem
    refuse_tracked(out, [f"{name}_time_to_quality.*"])
    out.mkdir(parents=True, exist_ok=True)
    refs = references(results)
    budgets = sorted(a.budgets) if a.budgets else default_budgets(points)
    png = f"{name}_time_to_quality.png"
    plot_time_to_quality(points, refs, out / png, plot_title(meta), fraction=a.fraction)
    notes = [NOTE]
    if estimated:
        notes.append(f"Curve seconds estimated (setup s + epoch × s/epoch, written before the "
                     f"points carried their time): {', '.join(estimated)}.")
    names = [path.name for path in a.results]
    sources = ", ".join(f"`{path.name if names.count(path.name) == 1 else path}`"
                        for path in a.results)
    text = "\n\n".join([f"### Time to quality: {plot_title(meta)}", f"From {sources}.",
                        budget_table(points, refs, budgets, a.fraction), *notes,
                        f"![time to quality]({png})"])
    (out / f"{name}_time_to_quality.md").write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
