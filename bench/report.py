"""The benchmark's outputs: JSON, Markdown table (mean ± std over seeds) and PNG plots.

The JSON holds ``{"meta": ..., "results": [...]}``: ``meta`` keeps the scenario, the command
and the date that produced it, so :func:`write_outputs` can re-render the Markdown and the plots
from the JSON alone (``--replot``). Files written before ``meta`` existed are a bare list of
results; their header is taken from the Markdown file next to them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bench.variants import VARIANTS

# (result key, column title, decimals, divisor); the JSON keeps the raw values
COLUMNS = [
    ("tstr_macro_f1", "macro-F1", 3, 1), ("tstr_trtr_ratio", "TSTR÷TRTR", 3, 1),
    ("tstr_minority_f1", "minority F1", 3, 1), ("tstr_worst_class_f1", "worst-class F1", 3, 1),
    ("tstr_roc_auc", "ROC-AUC", 3, 1),
    ("tstr_balanced_accuracy", "bal. acc.", 3, 1), ("detection_auc", "detect. AUC ↓", 3, 1),
    ("jsd_mean", "JSD ↓", 3, 1), ("wasserstein_mean", "WD ↓", 3, 1),
    ("dcr_synth_p5", "DCR p5 synth", 3, 1), ("dcr_holdout_p5", "DCR p5 holdout", 3, 1),
    ("exact_copy_rate_synth", "copies", 3, 1), ("mia_auc", "MIA AUC ↓", 3, 1),
    ("seconds_per_epoch", "s/epoch", 3, 1), ("fit_seconds", "fit s", 1, 1),
    ("total_seconds", "total s", 1, 1), ("sample_rows_per_s", "sample rows/s", 0, 1),
    ("peak_rss_mb", "peak MB", 0, 1), ("peak_gpu_mb", "peak GPU MB", 0, 1),
    ("bytes_per_epoch", "MB/epoch", 3, 1e6), ("unmet_label_rows", "label misses", 0, 1),
    ("epochs_run", "epochs run", 1, 1), ("kept_epoch", "kept epoch", 1, 1),
]
# shown only when some result has them
OPTIONAL_COLUMNS = {"peak_gpu_mb", "tstr_worst_class_f1", "epochs_run", "kept_epoch"}


def add_trtr_ratio(results: list[dict[str, Any]]) -> None:
    """Set ``tstr_trtr_ratio``: TSTR macro-F1 over the trtr row's of the same seed (NaN when
    that seed has no trtr row or its macro-F1 is 0)."""
    trtr = {r["seed"]: r.get("tstr_macro_f1") for r in results if r["variant"] == "trtr"}
    for r in results:
        reference = trtr.get(r["seed"])
        ok = reference and r.get("tstr_macro_f1") is not None
        r["tstr_trtr_ratio"] = r["tstr_macro_f1"] / reference if ok else float("nan")


def _cell(values: pd.Series, decimals: int, divisor: float) -> str:
    v = values.astype(float) / divisor
    return f"{v.mean():.{decimals}f} ± {v.std(ddof=0):.{decimals}f}"


def _finished_frame(results: list[dict]) -> pd.DataFrame:
    """The jobs that finished, one row each (label misses 0 where strict sampling had none)."""
    df = pd.DataFrame([r for r in results if not r.get("error")])
    if "unmet_label_rows" in df:  # results from strict sampling, which had none by construction
        sampled = (df["variant"] != "trtr") & ~df["variant"].str.startswith("ctgan")
        df.loc[sampled, "unmet_label_rows"] = df.loc[sampled, "unmet_label_rows"].fillna(0)
    return df


def _cells(group: pd.DataFrame, columns: list[tuple]) -> list[str]:
    """One variant's cells: mean ± std over its seeds, "–" for a column it has no value in."""
    return ["–" if key not in group or group[key].isna().all()
            else _cell(group[key], digits, divisor)
            for key, _, digits, divisor in columns]


def markdown(results: list[dict], header: str, notes: list[str] | None = None) -> str:
    """Mean ± std over seeds per variant, under ``header``; ``notes`` go below the table.
    Failed jobs (with an ``error``) are left out of the means and listed below the table."""
    failed = [r for r in results if r.get("error")]
    df = _finished_frame(results)
    failures = "; ".join(f"{r['variant']} seed {r['seed']}: {r['error']}" for r in failed)
    notes = [*(notes or []), *([f"Failed, not in the means: {failures}."] if failed else [])]
    columns = [c for c in COLUMNS
               if c[0] not in OPTIONAL_COLUMNS or (c[0] in df and df[c[0]].notna().any())]
    lines = [header, "", "| variant | seeds | " + " | ".join(c[1] for c in columns) + " |",
             "|---" * (len(columns) + 2) + "|"]
    for variant, g in df.groupby("variant", sort=False):
        lines.append(f"| {variant} | {len(g)} | " + " | ".join(_cells(g, columns)) + " |")
    lines += class_f1_table(df)
    for note in notes:  # one paragraph each
        lines += ["", note]
    return "\n".join(lines)


def class_f1_table(df: pd.DataFrame) -> list[str]:
    """Per-class TSTR F1 (mean over the utility models; mean ± std over seeds), one row per
    variant; nothing for results that have no per-class scores."""
    if "tstr_class_f1" not in df or df["tstr_class_f1"].isna().all():
        return []
    classes: list[str] = []
    for scores in df["tstr_class_f1"].dropna():
        classes += [c for c in scores if c not in classes]
    lines = ["", "Per-class F1 (TSTR, mean of the utility models):", "",
             "| variant | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    for variant, g in df.groupby("variant", sort=False):
        per = pd.DataFrame([s for s in g["tstr_class_f1"] if isinstance(s, dict)])
        cells = ["–" if c not in per else _cell(per[c], 3, 1) for c in classes]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return lines


def header_text(meta: dict[str, Any]) -> str:
    """The table's title line and the command, date and machine that produced it."""
    return (f"### {meta['dataset']}: K={meta['parties']}, size ratio {meta['size_ratio']:g}, "
            f"Dirichlet β={meta['beta']:g}, IR cap {meta['ir_cap']}{rare_text(meta)}, "
            f"{meta['epochs']} epochs, "
            f"seeds {meta['seeds']} ({meta['date']}){_stopping_text(meta)}\n\n"
            f"Command: `{meta['command']}`; wall {meta['wall_seconds']:.0f} s on "
            f"{meta['cores']} cores, device {meta['device']}.")


def rare_text(meta: dict[str, Any]) -> str:
    """How the rarest class was placed (``--rare-party`` / ``--rare-absent``), or nothing."""
    if meta.get("rare_party"):
        return f", rarest class all in the {meta['rare_party']} party"
    if meta.get("rare_absent"):
        return f", rarest class absent from the {meta['rare_absent']} smallest parties"
    return ""


def _stopping_text(meta: dict[str, Any]) -> str:
    parts = []
    if meta.get("patience"):
        parts.append(f"patience {meta['patience']} (best epoch kept)")
    if meta.get("max_seconds"):
        parts.append(f"at most {meta['max_seconds']:g} s of training")
    return (", the library's variants with " + " and ".join(parts)) if parts else ""


def notes_text(results: list[dict], meta: dict[str, Any]) -> list[str]:
    """What the columns mean, as far as the table alone does not say it."""
    variants = {r["variant"] for r in results}
    notes = [
        "TSTR columns: mean of LR, DT, RF and HistGB trained on as many synthetic rows as the "
        "parties hold, scored on the real test set; TSTR÷TRTR divides macro-F1 by the trtr "
        "row's of the same seed. fit s: the whole fit (encoder or data transformer included, "
        "utility curve excluded); s/epoch: the training loop's epochs only; total s: the whole "
        "job (loading, fit, sampling, scoring); peak MB: peak resident memory of the job's own "
        "worker process up to the end of sampling (interpreter and torch included).",
    ]
    if any(r.get("unmet_label_rows") for r in results):
        notes.append(
            "label misses: release rows whose label is not the one asked for (each party's rows "
            "are asked with its real label frequencies and regenerated up to 50 times; a model "
            "that still ignores the asked label is scored on the rows it made).")
    if meta.get("curve_every"):
        notes.append(
            f"Utility curve: every {meta['curve_every']} epochs and at the last one, macro-F1 of "
            "one HistGB trained on the current generator's rows (the dashed line: the same model "
            "on the real rows); its time is in neither fit s nor s/epoch. Each point also keeps "
            "the training wall time at which it was taken (set-up and epochs so far, the curve's "
            "own evaluations excluded).")
    if any(v.startswith("ctgan") for v in variants):
        notes.append(
            "ctgan: the `ctgan` package's CTGAN (defaults: batch 500, pac 10) on the pooled rows "
            "without the party column; no utility curve over epochs (it cannot continue "
            "training, so it cannot be sampled between epochs): with a curve, its final rows are "
            "scored by the curve's HistGB as its one point, at its fit s; s/epoch from the time "
            "stamps of its per-epoch "
            "`loss_values` updates. ctgan-Nep: the same, trained N epochs instead of "
            f"{meta['epochs']} (`--ctgan-epochs`), e.g. to give it as much wall time as DAGAN.")
    return notes


def plot_names(name: str) -> dict[str, str]:
    """File names of the plots of the benchmark ``name``."""
    return {"curve": f"{name}_utility_vs_epochs.png", "quality": f"{name}_quality.png"}


def plot_title(meta: dict[str, Any]) -> str:
    """One line naming the scenario, for the plots."""
    if "title" in meta:
        return meta["title"]
    return (f"{meta['dataset']}: K={meta['parties']}, ratio {meta['size_ratio']:g}, "
            f"β={meta['beta']:g}{rare_text(meta)}, {meta['epochs']} epochs, "
            f"{len(meta['seeds'])} seed(s)")


def write_outputs(results: list[dict], meta: dict[str, Any], out: Path, name: str, *,
                  write_json: bool = True) -> str:
    """Write ``name``.md and the PNG plots (and, unless told not to, ``name``.json) into
    ``out``; return the Markdown."""
    from bench.plots import plot_quality, plot_utility_vs_epochs

    add_trtr_ratio(results)
    ok = [r for r in results if not r.get("error")]
    out.mkdir(parents=True, exist_ok=True)
    files = plot_names(name)
    images = []
    if plot_utility_vs_epochs(ok, out / files["curve"], plot_title(meta)):
        images.append(f"![utility vs epochs]({files['curve']})")
    plot_quality(ok, out / files["quality"], plot_title(meta))
    images.append(f"![TSTR quality]({files['quality']})")
    header = meta.get("header") or header_text(meta)
    table = markdown(results, header, [*notes_text(results, meta), " ".join(images)])
    if write_json:
        (out / f"{name}.json").write_text(
            json.dumps({"meta": meta, "results": results}, indent=1, default=float))
    (out / f"{name}.md").write_text(table + "\n")
    return table


REPLOT_NOTE = "Table and plots re-rendered from"


def load_results(path: Path) -> tuple[list[dict], dict[str, Any]]:
    """Results and meta of a benchmark JSON, with ``meta['header']`` saying it is re-rendered.

    A bare list (written before ``meta`` existed) takes its header from the Markdown file next
    to it and its plot title from the file name.
    """
    data = json.loads(path.read_text())
    note = f"{REPLOT_NOTE} `{path.name}` on {date.today()}."
    if isinstance(data, dict):
        meta = dict(data["meta"])
        meta["header"] = header_text(meta) + "\n\n" + note
        return data["results"], meta
    md = path.with_suffix(".md")
    lines = md.read_text().splitlines() if md.is_file() else []
    cut = next((i for i, line in enumerate(lines) if line.startswith("| variant |")), 0)
    kept = [line for line in lines[:cut] if not line.startswith(REPLOT_NOTE)]
    header = "\n".join(kept).strip() or f"### {path.stem}"
    meta = {"header": header + "\n\n" + note, "title": path.stem, "curve_every": 0,
            "seeds": sorted({r["seed"] for r in data})}
    return data, meta


SCENARIO_KEYS = ("dataset", "parties", "size_ratio", "beta", "ir_cap", "rare_party",
                 "rare_absent", "epochs", "max_rows", "patience", "max_seconds")
SCENARIO_DEFAULTS = {"rare_absent": 0}  # what a run written before a key existed had


def _scenario(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta.get(k, SCENARIO_DEFAULTS.get(k)) for k in SCENARIO_KEYS}


def read_job_lines(path: Path) -> dict[str, Any]:
    """A run's ``NAME.jobs.jsonl`` (the meta line, then one line per finished job) as
    ``{"meta": ..., "results": [...]}``, e.g. of a run stopped before its end."""
    records = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    if not records or "meta" not in records[0]:
        raise ValueError(f"{path}: the first line is not the run's meta")
    return {"meta": records[0]["meta"], "results": [r["result"] for r in records[1:]]}


def _run_data(path: Path, first_path: Path, first_meta: dict[str, Any] | None) -> dict:
    """One run's JSON, checked to be of the same scenario as the first run's."""
    if Path(path).suffix == ".jsonl":
        data = read_job_lines(path)
    else:
        data = json.loads(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: no meta (written by an older version); cannot merge")
    meta = data["meta"]
    mine, first = _scenario(meta), _scenario(first_meta or {})
    if first_meta is not None and mine != first:
        diff = {k: (first[k], mine[k]) for k in SCENARIO_KEYS if mine[k] != first[k]}
        raise ValueError(f"{path}: another scenario than {first_path}: {diff}")
    return data


def _keep_first_finished(merged: dict[tuple[str, int], dict], results: list[dict],
                         source: str) -> None:
    """Add each (variant, seed) not merged yet, or finished where the merged one failed."""
    for r in results:
        key = (r["variant"], r["seed"])
        if key not in merged or (merged[key].get("error") and not r.get("error")):
            # a merged input keeps the run each result came from
            merged[key] = {**r, "source": r.get("source", source)}


def merge_runs(paths: list[Path]) -> tuple[list[dict], dict[str, Any]]:
    """Results of several runs of one scenario (e.g. seeds or variants run on different
    machines), each (variant, seed) once (the first run that has it wins, but a finished job
    wins over a failed one), with a header that names every source run's command, date,
    machine and device.

    Raises:
        ValueError: the runs are not of the same scenario, or one has no ``meta``.
    """
    merged: dict[tuple[str, int], dict] = {}
    metas = []
    lines: list[str] = []
    for path in paths:
        data = _run_data(path, paths[0], metas[0] if metas else None)
        metas.append(data["meta"])
        lines += [line for line in _source_lines(Path(path).name, data["meta"])
                  if line not in lines]
        _keep_first_finished(merged, data["results"], Path(path).name)
    order = ["trtr", *VARIANTS]  # then the rest (the ctgan package) by name
    results = sorted(merged.values(), key=lambda r: (
        r["seed"], order.index(r["variant"]) if r["variant"] in order else len(order),
        r["variant"]))
    first = metas[0]
    seeds = sorted({r["seed"] for r in results})
    sources = "\n".join(lines)
    title = {**first, "seeds": seeds}
    title.pop("source_lines", None)
    header = (header_text({**title, "command": "see below", "wall_seconds": float("nan"),
                           "cores": "-", "device": "see below"}).split("\n\n")[0]
              + f"\n\nMerged from {len(lines)} runs (each (variant, seed) from the first run "
              f"that finished it; the `seeds` column counts them):\n{sources}\n\n"
              "Seconds per epoch and peak memory are only comparable between rows from the same "
              "machine and device.")
    return results, {**title, "header": header, "source_lines": lines,
                     "sources": [m["command"] for m in metas]}


def _source_lines(name: str, meta: dict[str, Any]) -> list[str]:
    """The header lines naming the run(s) behind a result file: its own command, or, for a
    merged file, the lines of the runs it was merged from."""
    if "source_lines" in meta:
        return list(meta["source_lines"])
    if "Merged from" in meta.get("header", ""):  # merged before source_lines were kept
        return [line for line in meta["header"].splitlines() if line.startswith("- `")]
    return [f"- `{name}`: `{meta['command']}` ({meta['date']}, {meta['cores']} cores, device "
            f"{meta['device']}, wall {meta.get('wall_seconds', float('nan')):.0f} s)"]
