"""Profiles of party tables and their Dagster metadata.

The label column and the discrete columns come from the table contract's ``meta`` block, so this
module knows nothing about any particular dataset.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
import pandas as pd

from dagan_core.errors import InvalidDataError
from dagan_core.profiling import (
    CrossPartyProfile,
    PartyProfile,
    profile_parties,
    profile_party,
    profile_party_chunks,
)
from pipelines import contracts
from pipelines.metadata import json_value, md_table

#: The profiles as long tidy tables (``PartyProfile.to_frame()``, ``CrossPartyProfile.to_frame()``):
#: one number per row, counts and shares only.
PROFILE_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("party", "string", description="Party the number is about; NULL for "
                       "numbers about all parties together (cross-party profile)."),
        dg.TableColumn("kind", "string", description="What the number is: n_rows, "
                       "imbalance_ratio, label_entropy, minority_class, class_count, class_share, "
                       "category_share, null_rate (party profile); size_ratio, pooled_class_count, "
                       "pooled_class_share, label_jsd, n_missing_classes, missing_class, "
                       "single_party_class (cross-party profile)."),
        dg.TableColumn("column", "string", description="Column the number is about (the label "
                       "for class numbers); NULL for table-level numbers."),
        dg.TableColumn("value", "string", description="Category or class the number is about; "
                       "NULL when none."),
        dg.TableColumn("metric", "float", description="The number itself: a count, share, ratio "
                       "or divergence. Never a row."),
    ]
)


def build_party_profile(
    party: str,
    validated: pd.DataFrame | Iterable[pd.DataFrame],
    suite_path: str | os.PathLike[str] | None = None,
) -> PartyProfile:
    """Profile one party's validated table (a frame, or its chunks) with the contract's label and
    discrete columns. Given chunks, memory holds one chunk and the counts."""
    spec = contracts.contract_spec(suite_path)
    if not spec.label:
        raise ValueError(f"contract {spec.path}: meta.label must name the label column")
    discrete = list(spec.discrete_columns) or None
    if isinstance(validated, pd.DataFrame):
        return profile_party(validated, spec.label, discrete_columns=discrete, party=party)
    return profile_party_chunks(validated, spec.label, discrete_columns=discrete, party=party)


def party_profile_metadata(profile: PartyProfile) -> dict[str, Any]:
    shares = profile.class_shares
    classes = pd.DataFrame(
        [(c, n, shares[c]) for c, n in profile.class_counts.items()],
        columns=[profile.label, "rows", "share"],
    )
    return {
        "dagster/column_schema": PROFILE_SCHEMA,
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
        "dagster/column_schema": PROFILE_SCHEMA,
        "parties": len(cross.party_sizes),
        "size_ratio": cross.size_ratio,
        "max_label_jsd": max(cross.label_jsd.values()),
        "per_party": md_table(parties),
        "pooled_classes": md_table(pooled),
        "single_party_classes": json_value(cross.single_party_classes),
        "missing_classes": json_value(cross.missing_classes),
    }
