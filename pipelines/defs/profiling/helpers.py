"""Profiles of party tables and their Dagster metadata.

The label column and the discrete columns come from the table contract's ``meta`` block, so this
module knows nothing about any particular dataset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from dagan_core.errors import InvalidDataError
from dagan_core.profiling import CrossPartyProfile, PartyProfile, profile_parties, profile_party
from pipelines import gx_runner
from pipelines.metadata import json_value, md_table


def build_party_profile(
    party: str, validated: pd.DataFrame, suite_path: str | os.PathLike[str] | None = None
) -> PartyProfile:
    """Profile one party's validated table with the contract's label and discrete columns."""
    spec = gx_runner.contract_spec(suite_path)
    if not spec.label:
        raise ValueError(f"contract {spec.path}: meta.label must name the label column")
    return profile_party(
        validated, spec.label, discrete_columns=list(spec.discrete_columns) or None, party=party
    )


def party_profile_metadata(profile: PartyProfile) -> dict[str, Any]:
    shares = profile.class_shares
    classes = pd.DataFrame(
        [(c, n, shares[c]) for c, n in profile.class_counts.items()],
        columns=[profile.label, "rows", "share"],
    )
    return {
        "party": profile.party or "",
        "rows": profile.n_rows,
        "imbalance_ratio": profile.imbalance_ratio,
        "label_entropy": profile.label_entropy,
        "minority_class": profile.minority_class,
        "class_counts": md_table(classes),
        "class_counts_json": json_value(profile.class_counts),
    }


def build_cross_party_profile(profiles: Mapping[str, Mapping[str, Any]]) -> CrossPartyProfile:
    """Compare parties from their profile dictionaries (``PartyProfile.to_dict()`` values)."""
    if not profiles:
        raise InvalidDataError("no party has a profile yet; materialize party_profile first")
    return profile_parties({p: PartyProfile(**dict(d)) for p, d in sorted(profiles.items())})


def cross_party_metadata(cross: CrossPartyProfile) -> dict[str, Any]:
    total = sum(cross.party_sizes.values())
    parties = pd.DataFrame(
        [
            (
                party,
                n,
                n / total,
                cross.label_jsd[party],
                ", ".join(cross.missing_classes[party]) or "-",
            )
            for party, n in cross.party_sizes.items()
        ],
        columns=["party", "rows", "share_of_rows", "label_jsd", "missing_classes"],
    )
    pooled = pd.DataFrame(
        [(c, n, s) for (c, n), s in zip(
            cross.pooled_class_counts.items(), cross.pooled_class_shares.values(), strict=True
        )],
        columns=[cross.label, "rows", "share"],
    )
    return {
        "parties": len(cross.party_sizes),
        "size_ratio": cross.size_ratio,
        "max_label_jsd": max(cross.label_jsd.values()),
        "per_party": md_table(parties),
        "pooled_classes": md_table(pooled),
        "single_party_classes": json_value(cross.single_party_classes),
        "missing_classes": json_value(cross.missing_classes),
    }
