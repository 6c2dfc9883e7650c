"""Why do rare classes vanish? Per-class measurements of one fit on a benchmark scenario.

Prints, for each label class: its share of the training rows; how often it was asked as the
label condition during training and how often a real row of it reached a critic (every condition
draw of every party counted); release label misses; the per-class TSTR F1 (mean of the utility
models) next to the TRTR one; and "looks like its class": the share of the release rows asked
for class k that a classifier trained on the real rows puts in class k (on real test rows of
class k that share is the classifier's recall, printed beside it). Then the encoding of each
column and the real-vs-synthetic detection AUC of each column alone, to show which columns give
the synthetic rows away.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/class_analysis.py --dataset covertype \
        --max-rows 20000 --epochs 20 --variant dagan --seed 0
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from bench.options import add_data_dir


class DrawCounter:
    """Counts the label conditions and the classes of the matched real rows of every draw."""

    def __init__(self) -> None:
        self.asked: Counter = Counter()
        self.rows: Counter = Counter()
        self.total = 0

    @contextmanager
    def installed(self):
        """Count every condition draw of every party while the block runs."""
        from dagan_core.federation.party import Party

        original = Party._draw
        counter = self

        def counted(party, n, *args, **kwargs):
            out = original(party, n, *args, **kwargs)
            blocks, cats, rows = party._pending
            lay = party.layout
            b = lay.cond_blocks[lay.label_block]
            counter.asked.update(cats[blocks == lay.label_block].tolist())
            real = party._rows[torch_index(rows)].cpu().numpy()
            counter.rows.update(b.categories(real).tolist())
            counter.total += len(blocks)
            return out

        Party._draw = counted
        try:
            yield self
        finally:
            Party._draw = original


def torch_index(rows: np.ndarray):
    import torch

    return torch.as_tensor(rows, dtype=torch.long)


def looks_like(pooled: pd.DataFrame, synth: pd.DataFrame, test: pd.DataFrame, label: str,
               discrete: list[str], seed: int) -> tuple[dict, dict]:
    """Per class: share of synthetic rows of class k a real-trained classifier calls k, and the
    same classifier's recall on the real test rows of class k."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from dagan_core.metrics.base import split_columns
    from dagan_core.metrics.utility import _xy, feature_pipeline

    disc, cont = split_columns([pooled, synth], discrete, exclude=[label, "party"])
    model = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    x, y = _xy(pooled, label, disc, cont)
    pipe = feature_pipeline(disc, cont, model).fit(x, y)
    out = []
    for frame in (synth, test):
        xs, ys = _xy(frame, label, disc, cont)
        pred = pipe.predict(xs)
        out.append({str(k): float(np.mean(pred[ys == k] == k)) for k in np.unique(ys)})
    return out[0], out[1]


def column_detection(pooled: pd.DataFrame, synth: pd.DataFrame, discrete: list[str],
                     seed: int) -> dict[str, float]:
    """Detection AUC of each column alone."""
    from dagan_core.metrics.similarity import detection_auc

    cols = [c for c in pooled.columns if c != "party"]
    return {c: detection_auc(pooled[[c]], synth[[c]], [d for d in discrete if d == c],
                             seed=seed, party_column=None) for c in cols}


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="covertype")
    p.add_argument("--variant", default="dagan")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--max-rows", type=int, default=20000)
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                   help="extra hyperparameters (JSON values), e.g. class_loss_weight=1.0")
    p.add_argument("--json", type=Path, help="also write the measurements here")
    add_data_dir(p)
    return p.parse_args(argv)


def measure(a: argparse.Namespace) -> dict:
    """Fit, sample and measure (see the module docstring)."""
    import torch

    from bench.scenario import set_up
    from dagan_core import make_synthesizer
    from dagan_core.metrics import ml_utility
    from dagan_core.metrics.similarity import detection_auc

    torch.set_num_threads(1)
    setup = set_up(a.dataset, a.data_dir, seed=a.seed, max_rows=a.max_rows)
    pooled, label = setup.pooled(), setup.label
    extra = {k: json.loads(v) for k, v in (s.split("=", 1) for s in a.set)}
    counter = DrawCounter()
    synth = make_synthesizer(a.variant, epochs=a.epochs, seed=a.seed, device="cpu", **extra)
    with counter.installed():
        synth.fit(setup.parties, label=label, discrete_columns=setup.discrete)
    rows = synth.sample(len(pooled), seed=a.seed + 1000, strict=False)
    enc = synth.model.encoder
    tstr = ml_utility(rows.drop(columns="party"), setup.test, label, setup.all_discrete,
                      seed=a.seed)
    trtr = ml_utility(pooled.drop(columns="party"), setup.test, label, setup.all_discrete,
                      seed=a.seed)
    synth_like, real_like = looks_like(pooled, rows, setup.test, label, setup.all_discrete,
                                       a.seed)
    per_party = {p: d[label].astype(str).value_counts().to_dict()
                 for p, d in setup.parties.items()}
    data_share = pooled[label].astype(str).value_counts(normalize=True)
    n_asked, n_rows = sum(counter.asked.values()), sum(counter.rows.values())
    classes = {}
    for i, k in enumerate(str(v) for v in enc.vocab[label]):
        classes[k] = {
            "train_share": float(data_share.get(k, 0.0)),
            "parties": sum(1 for c in per_party.values() if c.get(k, 0) > 0),
            "asked_share": counter.asked[i] / max(n_asked, 1),
            "critic_row_share": counter.rows[i] / max(n_rows, 1),
            "tstr_f1": tstr.class_f1.get(k, float("nan")),
            "trtr_f1": trtr.class_f1.get(k, float("nan")),
            "synth_called_k": synth_like.get(k, float("nan")),
            "real_recall": real_like.get(k, float("nan")),
        }
    columns = {c.name: (c.kind, 1 + len(enc.mixtures[c.name].weights) if c.name in enc.mixtures
                        else len(enc.vocab[c.name])) for c in enc.schema.columns}
    return {
        "args": {k: str(v) for k, v in vars(a).items()}, "per_party": per_party,
        "classes": classes, "label_misses": int(rows.attrs["unmet_rows"]),
        "asked_label_draws": n_asked, "draws": counter.total,
        "tstr_macro_f1": tstr.mean["macro_f1"], "trtr_macro_f1": trtr.mean["macro_f1"],
        "tstr_trtr_ratio": tstr.mean["macro_f1"] / trtr.mean["macro_f1"],
        "worst_class_f1": min(tstr.class_f1.values()),
        "detection_auc": detection_auc(pooled, rows, setup.all_discrete, seed=a.seed),
        "columns": columns,
        "column_detection": column_detection(pooled, rows, setup.all_discrete, a.seed),
    }


def report(r: dict) -> None:
    """Print :func:`measure`'s result."""
    _say(f"rows per party: { {p: sum(c.values()) for p, c in r['per_party'].items()} }")
    _say(f"label conditions: {r['asked_label_draws']} of {r['draws']} draws "
         f"({r['asked_label_draws'] / r['draws']:.2f}); release label misses: "
         f"{r['label_misses']}")
    _say("class | train share | parties holding | asked share | critic real-row share | "
         "TSTR F1 | TRTR F1 | synth rows called k | real test recall")
    for k, row in r["classes"].items():
        _say(f"{k} | " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                    for v in row.values()))
    _say("columns (kind, encoded width): "
         + ", ".join(f"{c}: {k} {w}" for c, (k, w) in r["columns"].items()))
    _say(f"TSTR macro-F1 {r['tstr_macro_f1']:.3f}, TRTR {r['trtr_macro_f1']:.3f}, "
         f"ratio {r['tstr_trtr_ratio']:.3f}, worst-class F1 {r['worst_class_f1']:.3f}, "
         f"detection AUC {r['detection_auc']:.3f}")
    det = sorted(r["column_detection"].items(), key=lambda t: -t[1])
    _say("single-column detection AUC: " + ", ".join(f"{c} {v:.3f}" for c, v in det))


def main(argv: list[str] | None = None) -> None:
    a = _parse(argv)
    result = measure(a)
    report(result)
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
