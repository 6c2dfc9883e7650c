"""Which (party, label class) cells a fitted generator can produce: the probe run at the end of
``fit``.

For every class a party holds, ``probe_cells`` generates ``PROBE_ROWS`` rows of that party
conditioned on the class (generator in eval mode, its own seeded random draws, so neither the
training state nor any later sampling changes) and counts the rows that come out with the asked
class. A cell none of whose probe rows has its class is *unproducible*: the release cannot make
that party's rows of that class yet, so ``sample`` fills those rows with the classes the
generator does make and reports the shortfall (``strict=True`` refuses instead).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dagan_core.synthesizers.fitted_model import FittedModel
from dagan_core.synthesizers.sampling import _count, _generate, _satisfied

#: Rows generated per (party, class) cell by the probe.
PROBE_ROWS = 200
#: Offset of the probe's seed from the training seed (its draws are its own).
PROBE_SEED_OFFSET = 7919


def probe_cells(model: FittedModel, rows: int = PROBE_ROWS) -> dict[str, Any]:
    """The share of probe rows with the asked class, per party and class it holds.

    Returns:
        ``{"label", "probe_rows", "rates": {party: {class: share}}, "unproducible":
        [{"party", "label_value"}, ...]}``; a cell is unproducible when its share is 0.
    """
    enc = model.encoder
    layout, label = enc.layout, enc.schema.label
    tgen = torch.Generator(device=model.device)
    tgen.manual_seed(model.config.train.seed + PROBE_SEED_OFFSET)
    rates: dict[str, dict[str, float]] = {}
    missing = []
    for party in model.parties:
        generator = model.generator_for(party)
        was_training = generator.training
        generator.eval()
        try:
            rates[party] = {}
            for cat, value in enumerate(enc.vocab[label]):
                if _count(model, party, label, value) == 0:
                    continue  # the party has no such row: not a cell of its release
                cats = np.full(rows, cat)
                data = _generate(model, model.party_code(party), generator,
                                np.full(rows, layout.label_block), cats, tgen)
                share = float(_satisfied(layout, data, [(layout.label_block, cats)]).mean())
                rates[party][str(value)] = share
                if share == 0.0:
                    missing.append({"party": party, "label_value": str(value)})
        finally:
            generator.train(was_training)
    return {"label": label, "probe_rows": rows, "rates": rates, "unproducible": missing}


def describe(cells: dict[str, Any]) -> str:
    """One sentence on the unproducible cells of a probe ('' when there is none)."""
    missing = cells.get("unproducible") or []
    if not missing:
        return ""
    listed = ", ".join(f"party {c['party']!r} {cells['label']}={c['label_value']!r}"
                       for c in missing)
    return (f"the generator does not yet produce {len(missing)} (party, class) cell(s) (none "
            f"of {cells['probe_rows']} probe rows each): {listed}; sample() fills their rows "
            "with the classes it does produce and reports the shortfall in "
            "attrs['shortfall'] (strict=True refuses); training longer may fix it")
