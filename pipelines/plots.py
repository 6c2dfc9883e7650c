"""Plots attached to materializations: training curves, attention weights, class mix, utility.

Every function returns Markdown metadata holding an inline PNG (see :mod:`pipelines.metadata`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from pipelines.metadata import figure_markdown, new_figure

_MAX_LINES = 12


def loss_curves(history: Sequence[Mapping[str, Any]]) -> dg.MetadataValue:
    """Generator and conditional loss, and each party critic's Wasserstein estimate, per epoch."""
    epochs = [int(h["epoch"]) + 1 for h in history]
    fig, (left, right) = new_figure(10, 3.5, ncols=2)
    left.plot(epochs, [h["generator_loss"] for h in history], label="generator")
    left.plot(epochs, [h["cond_loss"] for h in history], label="conditional")
    left.set(title="Generator losses", xlabel="epoch")
    left.legend(fontsize=8)
    for party in _keys(history, "wasserstein"):
        right.plot(epochs, [h["wasserstein"].get(party) for h in history], label=party)
    right.set(title="Critic Wasserstein estimate per party", xlabel="epoch")
    right.legend(fontsize=8)
    return figure_markdown(fig, "loss curves")


def attention_weights(history: Sequence[Mapping[str, Any]]) -> dg.MetadataValue:
    """Global attention alpha per party and local attention pi per (party, class), per epoch."""
    epochs = [int(h["epoch"]) + 1 for h in history]
    fig, (left, right) = new_figure(10, 3.5, ncols=2)
    for party in _keys(history, "alpha"):
        left.plot(epochs, [h["alpha"].get(party) for h in history], label=party)
    left.set(title="Global attention alpha (party weight)", xlabel="epoch", ylim=(-0.02, 1.05))
    left.legend(fontsize=8)
    lines = 0
    for party in _keys(history, "pi"):
        for cls in _keys([h.get("pi", {}).get(party, {}) for h in history]):
            if lines >= _MAX_LINES:
                break
            right.plot(epochs, [h.get("pi", {}).get(party, {}).get(cls) for h in history],
                       label=f"{party}: {cls}")
            lines += 1
    right.set(title="Local attention pi (class weight)", xlabel="epoch", ylim=(-0.02, 1.05))
    if lines:
        right.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure_markdown(fig, "attention weights")


def class_mix(table: pd.DataFrame) -> dg.MetadataValue:
    """Grouped bars of each class's share, real vs synthetic, per party.

    ``table`` has columns ``party, label_value, real_share, synthetic_share``.
    """
    parties = sorted(table["party"].unique())
    classes = sorted(table["label_value"].astype(str).unique())
    fig, ax = new_figure(max(6.0, 1.6 * len(parties) * max(1, len(classes)) / 2), 3.5)
    width = 0.8 / (2 * len(classes))
    for c_index, cls in enumerate(classes):
        rows = table[table["label_value"].astype(str) == cls].set_index("party")
        for s_index, (column, hatch) in enumerate((("real_share", ""), ("synthetic_share", "//"))):
            offset = (2 * c_index + s_index) * width - 0.4 + width / 2
            values = [float(rows[column].get(p, 0.0)) for p in parties]
            ax.bar([i + offset for i in range(len(parties))], values, width, hatch=hatch,
                   color=f"C{c_index}", edgecolor="black", linewidth=0.4,
                   label=f"{cls} ({column.split('_')[0]})")
    ax.set_xticks(range(len(parties)), parties)
    ax.set(title="Class mix per party: real vs synthetic (hatched)", ylabel="share", ylim=(0, 1.05))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure_markdown(fig, "class mix")


def utility_bars(utility: pd.DataFrame) -> dg.MetadataValue:
    """TSTR vs TRTR per metric (models averaged): ``utility`` has ``metric, tstr, trtr``."""
    fig, ax = new_figure(7, 3.2)
    metrics = list(utility["metric"])
    xs = range(len(metrics))
    ax.bar([x - 0.2 for x in xs], utility["trtr"], 0.4, label="TRTR (real)")
    ax.bar([x + 0.2 for x in xs], utility["tstr"], 0.4, label="TSTR (synthetic)")
    ax.set_xticks(list(xs), metrics)
    ax.set(title="Utility on the real test set (mean over models)", ylim=(0, 1))
    ax.legend(fontsize=8)
    return figure_markdown(fig, "utility")


def _keys(history: Sequence[Mapping[str, Any]], field: str | None = None) -> list[str]:
    seen: dict[str, None] = {}
    for entry in history:
        mapping = entry.get(field, {}) if field else entry
        for key in mapping or {}:
            seen.setdefault(str(key), None)
    return list(seen)
