"""How far generated rows are from a party's held-out rows, measured at the party.

The critic's separation (``FitReport.gap``) moves with the critic as much as with the generator,
so it cannot tell alone whether the generator improved. :func:`marginal_gap` does not depend on
any network: the mean, over the columns of the layout, of the total-variation distance between
the real and the generated distribution of that column (categories and mixture modes as they
are; the normalised value inside a mode in ten equal bins). Real and generated rows come with
the same label conditions, so the label column itself is left out. 0 = same marginals, 1 = no
overlap. It is a single float: nothing about a row leaves the party.
"""

from __future__ import annotations

import numpy as np

from dagan_core.data.layout import ColumnLayout

VALUE_BINS = 10


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
