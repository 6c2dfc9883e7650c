"""How many rows each party gets, and drawing them from a fitted synthesizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def allocate_rows(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Split ``n`` rows over parties in proportion to their sizes (largest remainder, exact sum)."""
    total = sum(sizes.values())
    if n < 0 or total <= 0:
        raise ValueError(f"cannot allocate {n} rows over party sizes {dict(sizes)}")
    quotas = {p: n * s / total for p, s in sizes.items()}
    out = {p: int(np.floor(q)) for p, q in quotas.items()}
    by_remainder = sorted(sizes, key=lambda p: (-(quotas[p] - out[p]), p))
    for party in by_remainder[: n - sum(out.values())]:
        out[party] += 1
    return out


def sample_parties(synth: Any, allocation: Mapping[str, int], seed: int) -> pd.DataFrame:
    """``allocation[p]`` rows for each party ``p``, each party with its own derived seed.

    ``attrs["unmet_rows"]`` and ``attrs["shortfall"]`` gather what every party's sampling
    reported (rows whose asked label the model could not make; see ``Synthesizer.sample``).
    """
    frames = []
    for index, (party, n) in enumerate(sorted(allocation.items())):
        if n > 0:
            party_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
            frames.append(synth.sample(n, party=party, seed=party_seed))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["shortfall"] = [s for f in frames for s in f.attrs.get("shortfall", [])]
    out.attrs["unmet_rows"] = sum(int(f.attrs.get("unmet_rows", 0)) for f in frames)
    return out


def shortfall_table(shortfall: list[dict[str, Any]]) -> pd.DataFrame:
    """``party, condition, rows_asked, rows_made, rows_missing``: one line per cell the release
    fell short on (the condition is ``column=value``, the label's for the release mix)."""
    lines = [(s["party"], ", ".join(f"{c}={v}" for c, v in s["condition"].items()),
              s["asked"], s["made"], s["missing"]) for s in shortfall]
    return pd.DataFrame(lines, columns=["party", "condition", "rows_asked", "rows_made",
                                        "rows_missing"])
