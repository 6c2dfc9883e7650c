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
from collections import Counter
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

    def install(self) -> None:
        from dagan_core.federation.party import Party

        original = Party._draw
        counter = self

        def counted(party, n):
            out = original(party, n)
            blocks, cats, rows = party._pending
            lay = party.layout
            b = lay.cond_blocks[lay.label_block]
            on_label = blocks == lay.label_block
            counter.asked.update(cats[on_label].tolist())
            real = party._rows[torch_index(rows)].cpu().numpy()
            counter.rows.update(real[:, b.data_start:b.data_start + b.width].argmax(1).tolist())
            counter.total += len(blocks)
            return out

        Party._draw = counted


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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="covertype")
    p.add_argument("--variant", default="dagan")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--max-rows", type=int, default=20000)
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                   help="extra hyperparameters (JSON values), e.g. label_condition_prob=0.8")
    p.add_argument("--json", type=Path, help="also write the measurements here")
    add_data_dir(p)
    a = p.parse_args(argv)

    import torch

    from bench.scenario import set_up
    from dagan_core import make_synthesizer
    from dagan_core.metrics import ml_utility

    torch.set_num_threads(1)
    setup = set_up(a.dataset, a.data_dir, seed=a.seed, max_rows=a.max_rows)
    pooled, label = setup.pooled(), setup.label
    extra = {k: json.loads(v) for k, v in (s.split("=", 1) for s in a.set)}
    counter = DrawCounter()
    counter.install()
    synth = make_synthesizer(a.variant, epochs=a.epochs, seed=a.seed, device="cpu", **extra)
    synth.fit(setup.parties, label=label, discrete_columns=setup.discrete)
    rows = synth.sample(len(pooled), seed=a.seed + 1000, strict=False)
    enc = synth.model.encoder
    vocab = [str(v) for v in enc.vocab[label]]
    data_share = pooled[label].astype(str).value_counts(normalize=True)
    n_asked = sum(counter.asked.values())
    n_rows = sum(counter.rows.values())
    tstr = ml_utility(rows.drop(columns="party"), setup.test, label, setup.all_discrete,
                      seed=a.seed)
    trtr = ml_utility(pooled.drop(columns="party"), setup.test, label, setup.all_discrete,
                      seed=a.seed)
    synth_like, real_like = looks_like(pooled, rows, setup.test, label, setup.all_discrete,
                                       a.seed)
    per_party = {p: d[label].astype(str).value_counts().to_dict()
                 for p, d in setup.parties.items()}
    print(f"rows per party: { {p: len(d) for p, d in setup.parties.items()} }")
    print(f"label conditions: {n_asked} of {counter.total} draws "
          f"({n_asked / counter.total:.2f}); release label misses: {rows.attrs['unmet_rows']}")
    print("class | train share | parties holding | asked share | critic real-row share | "
          "TSTR F1 | TRTR F1 | synth rows called k | real test recall")
    table = {}
    for i, k in enumerate(vocab):
        held = sum(1 for c in per_party.values() if c.get(k, 0) > 0)
        table[k] = {
            "train_share": float(data_share.get(k, 0.0)), "parties": held,
            "asked_share": counter.asked[i] / max(n_asked, 1),
            "critic_row_share": counter.rows[i] / max(n_rows, 1),
            "tstr_f1": tstr.class_f1.get(k, float("nan")),
            "trtr_f1": trtr.class_f1.get(k, float("nan")),
            "synth_called_k": synth_like.get(k, float("nan")),
            "real_recall": real_like.get(k, float("nan")),
        }
        print(f"{k} | " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                     for v in table[k].values()))
    print("columns (kind, encoded width):")
    widths = {}
    for spec in enc.schema.columns:
        width = (1 + len(enc.mixtures[spec.name].weights) if spec.name in enc.mixtures
                 else len(enc.vocab[spec.name]))
        widths[spec.name] = (spec.kind, width)
    print("  " + ", ".join(f"{c}: {k} {w}" for c, (k, w) in widths.items()))
    from dagan_core.metrics.similarity import detection_auc

    whole = detection_auc(pooled, rows, setup.all_discrete, seed=a.seed)
    ratio = tstr.mean["macro_f1"] / trtr.mean["macro_f1"]
    worst = min(tstr.class_f1.values())
    print(f"TSTR macro-F1 {tstr.mean['macro_f1']:.3f}, TRTR {trtr.mean['macro_f1']:.3f}, "
          f"ratio {ratio:.3f}, worst-class F1 {worst:.3f}, detection AUC {whole:.3f}")
    det = column_detection(pooled, rows, setup.all_discrete, a.seed)
    print("single-column detection AUC: "
          + ", ".join(f"{c} {v:.3f}" for c, v in sorted(det.items(), key=lambda t: -t[1])))
    if a.json:
        a.json.write_text(json.dumps({
            "args": {k: str(v) for k, v in vars(a).items()}, "per_party": per_party,
            "classes": table, "label_misses": rows.attrs["unmet_rows"],
            "tstr_macro_f1": tstr.mean["macro_f1"], "trtr_macro_f1": trtr.mean["macro_f1"],
            "tstr_trtr_ratio": ratio, "worst_class_f1": worst, "detection_auc": whole,
            "asked_label_draws": n_asked, "draws": counter.total,
            "columns": widths, "column_detection": det}, indent=1))


if __name__ == "__main__":
    main()
