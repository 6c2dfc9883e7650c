"""Dagster metadata of the summaries: what a party shares, its imbalance, the federation's."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd

from dagan_core.data.summary import PartySummary
from dagan_core.profiling import CrossPartyProfile, PartyProfile
from pipelines.metadata import json_value, md_table

#: ``party_summary`` and ``global_encoder`` as long tidy tables (``PartyProfile.to_frame()``,
#: ``CrossPartyProfile.to_frame()``): one number per row, counts and shares only.
PROFILE_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("party", "string", description="Party the number is about; NULL for "
                       "numbers about all parties together (global encoder)."),
        dg.TableColumn("kind", "string", description="What the number is: n_rows, "
                       "imbalance_ratio, label_entropy, minority_class, class_count, class_share, "
                       "category_share, null_rate (party summary); size_ratio, pooled_class_count, "
                       "pooled_class_share, label_jsd, n_missing_classes, missing_class, "
                       "single_party_class (global encoder)."),
        dg.TableColumn("column", "string", description="Column the number is about (the label "
                       "for class numbers); NULL for table-level numbers."),
        dg.TableColumn("value", "string", description="Category or class the number is about; "
                       "NULL when none."),
        dg.TableColumn("metric", "float", description="The number itself: a count, share, ratio "
                       "or divergence. Never a row."),
    ]
)


def shared_columns(summary: PartySummary) -> pd.DataFrame:
    """One line per column: exactly what the summary reveals about it."""
    lines = []
    for column, pairs in summary.category_counts.items():
        lines.append((column, "discrete", f"{len(pairs)} category counts"))
    for column, mix in summary.mixtures.items():
        lines.append((column, "continuous", f"{len(mix.weights)} mixture modes (weight, mean, "
                      f"std), min {mix.minimum:g}, max {mix.maximum:g}"))
    return pd.DataFrame(lines, columns=["column", "kind", "shared"])


def party_summary_metadata(summary: PartySummary, profile: PartyProfile) -> dict[str, Any]:
    """The summary's reach (what leaves the party) and the party's label imbalance."""
    shares = profile.class_shares
    classes = pd.DataFrame(
        [(c, n, shares[c]) for c, n in profile.class_counts.items()],
        columns=[profile.label, "rows", "share"],
    )
    return {
        "dagster/column_schema": PROFILE_SCHEMA,
        "party": summary.party,
        "rows": summary.n_rows,
        "shared_columns": md_table(shared_columns(summary)),
        "imbalance_ratio": profile.imbalance_ratio,
        "label_entropy": profile.label_entropy,
        "minority_class": profile.minority_class,
        "class_counts": md_table(classes),
        "class_counts_json": json_value(profile.class_counts),
    }


def cross_party_metadata(cross: CrossPartyProfile) -> dict[str, Any]:
    """The federation's imbalance: size skew, label divergence, classes missing or held alone."""
    total = sum(cross.party_sizes.values())
    parties = pd.DataFrame(
        [
            (party, n, n / total, cross.label_jsd[party],
             ", ".join(cross.missing_classes[party]) or "-")
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
