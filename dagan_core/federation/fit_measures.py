"""How far generated rows are from a party's held-out rows, measured at the party.

The critic's separation (``FitReport.gap``) moves with the critic as much as with the generator,
so it cannot tell alone whether the generator improved. :func:`marginal_gap` does not depend on
any network: the mean, over the columns of the layout, of the total-variation distance between
the real and the generated distribution of that column (categories and mixture modes as they
are; the normalised value inside a mode in ten equal bins). Real and generated rows come with
the same label conditions, so the label column itself is left out. 0 = same marginals, 1 = no
overlap. It is a single float: nothing about a row leaves the party.

Marginals do not see how columns go together, which is what a model trained on the synthetic
rows depends on. :func:`heldout_f1` does: a small classifier (multinomial logistic regression,
fixed seed, deterministic solver) learns the label from the other columns of the generated
rows and is scored (macro-F1) on the party's held-out rows. 1 = the generated rows teach the
label as well as anything this classifier can learn; a generator whose features do not go with
the label scores near chance. Also a single float measured at the party.
"""

from __future__ import annotations

import warnings

import numpy as np

from dagan_core.data.layout import ColumnLayout

VALUE_BINS = 10
UTILITY_MAX_ROWS = 2000  # generated rows the held-out classifier trains on, at most
UTILITY_SEED = 0  # its own generator: the party's training streams are never drawn from


def _total_variation(real: np.ndarray, fake: np.ndarray, n: int) -> float:
    p = np.bincount(real, minlength=n) / max(1, len(real))
    q = np.bincount(fake, minlength=n) / max(1, len(fake))
    return 0.5 * float(np.abs(p - q).sum())


def _value_bins(x: np.ndarray) -> np.ndarray:
    return np.clip(((x + 1.0) / 2.0 * VALUE_BINS).astype(np.int64), 0, VALUE_BINS - 1)


def marginal_gap(layout: ColumnLayout, real: np.ndarray, fake: np.ndarray) -> float:
    """Mean per-column total-variation distance between ``real`` and ``fake`` encoded rows.

    Args:
        layout: the column layout both tables are encoded with.
        real: held-out rows, encoded (one-hot blocks, ``tanh`` values in [-1, 1]).
        fake: generated rows for the same conditions (soft or hard one-hot blocks).
    """
    if len(real) == 0 or len(fake) == 0:
        return float("nan")
    label = layout.cond_blocks[layout.label_block].column
    distances = []
    for span in layout.spans:
        if span.column == label:
            continue
        r = real[:, span.start:span.start + span.width]
        f = fake[:, span.start:span.start + span.width]
        if span.activation == "softmax":
            distances.append(_total_variation(r.argmax(axis=1), f.argmax(axis=1), span.width))
        else:
            distances.append(_total_variation(_value_bins(r[:, 0]), _value_bins(f[:, 0]),
                                              VALUE_BINS))
    return float(np.mean(distances)) if distances else float("nan")


def _features_and_labels(layout: ColumnLayout, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every non-label column (one-hot blocks hardened to their argmax), and the label class."""
    b = layout.cond_blocks[layout.label_block]
    labels = b.categories(rows)
    parts = []
    for span in layout.spans:
        if span.column == b.column:
            continue
        x = rows[:, span.start:span.end]
        if span.activation == "softmax":
            x = np.eye(span.width, dtype=np.float32)[x.argmax(axis=1)]
        parts.append(x.astype(np.float32, copy=False))
    features = np.concatenate(parts, axis=1) if parts else np.zeros((len(rows), 0), np.float32)
    return features, labels


def heldout_f1(layout: ColumnLayout, real: np.ndarray, fake: np.ndarray) -> float:
    """Macro-F1 on ``real`` of a classifier trained on ``fake`` (features -> label).

    The label of a row is the argmax of its label block; the features are the other columns
    as encoded (mode and category one-hots hardened). The classifier is a multinomial logistic
    regression (lbfgs, ``random_state`` fixed) on at most :data:`UTILITY_MAX_ROWS` generated
    rows, subsampled with a generator of its own seed, so the measure is deterministic and
    draws from no training stream. Macro-F1 runs over the classes of ``real``: a class the
    generated rows lack is never predicted and scores 0, and generated rows of a single class
    give a constant prediction (both score badly instead of being skipped).

    Returns NaN when ``real`` holds fewer than 2 classes (macro-F1 is then no measure of the
    feature-label relation) or when there are no rows.
    """
    if len(real) == 0 or len(fake) == 0:
        return float("nan")
    x_real, y_real = _features_and_labels(layout, real)
    classes = np.unique(y_real)
    if len(classes) < 2:
        return float("nan")
    x_fake, y_fake = _features_and_labels(layout, fake)
    if len(x_fake) > UTILITY_MAX_ROWS:
        keep = np.random.default_rng(UTILITY_SEED).choice(len(x_fake), UTILITY_MAX_ROWS,
                                                          replace=False)
        x_fake, y_fake = x_fake[keep], y_fake[keep]
    from sklearn.metrics import f1_score

    if len(np.unique(y_fake)) < 2:
        predicted = np.full(len(y_real), y_fake[0])
    else:
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        model = LogisticRegression(max_iter=200, random_state=UTILITY_SEED)
        # one BLAS thread: the same bits whatever the process's thread count (a party in its
        # own process and one simulated in the coordinator's must keep the same epoch)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")  # a short lbfgs run is the point: no noise
            model.fit(x_fake, y_fake)
            predicted = model.predict(x_real)
    return float(f1_score(y_real, predicted, labels=classes, average="macro", zero_division=0))


MARGINAL_WEIGHT = 0.1


def joint_score(heldout: float, marginal: float | None) -> float:
    """One party's fit score, lower is better: ``1 - heldout_f1 + 0.1 * marginal_gap``.

    The held-out F1 carries the joint distribution (what downstream utility depends on); the
    marginal gap, weighted a tenth, separates epochs whose F1 is about the same (its range over
    a fit, a few hundredths, is then the size of the F1's own noise on a held-out probe of a
    few hundred rows) and keeps a generator whose columns drift from being preferred for an
    equal F1. NaN when the F1 is NaN; a missing (None or NaN) marginal gap counts as 0.
    """
    if not np.isfinite(heldout):
        return float("nan")
    measured = marginal is not None and np.isfinite(marginal)
    return float(1.0 - heldout + (MARGINAL_WEIGHT * marginal if measured else 0.0))
