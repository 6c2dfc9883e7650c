"""Plots attached to materializations: training curves, attention weights, class mix, column
distributions and utility.

Every function returns Markdown metadata holding an inline PNG (see :mod:`pipelines.metadata`);
the Dagster UI shows it behind the entry's "Show Markdown" link. matplotlib is imported lazily
(inside :func:`pipelines.metadata.new_figure`), so loading the definitions never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from pipelines.metadata import figure_markdown, new_figure

#: Most lines in one panel and most panels (parties) in one figure; the rest is named in a note.
_MAX_LINES = 12
_MAX_PARTY_PANELS = 8
_MAX_CATEGORIES = 8


def loss_curves(history: Sequence[Mapping[str, Any]]) -> dg.MetadataValue:
    """Per-epoch training losses: generator (adversarial), conditional, and per party the critic
    loss and its Wasserstein estimate."""
    epochs = _epochs(history)
    fig, axes = new_figure(11, 6.4, nrows=2, ncols=2)
    (gen, cond), (critic, wasserstein) = axes
    gen.plot(epochs, [h.get("generator_loss") for h in history], marker=".", color="C0")
    gen.set(title="Generator loss (adversarial)", xlabel="epoch", ylabel="loss")
    cond.plot(epochs, [h.get("cond_loss") for h in history], marker=".", color="C1")
    cond.set(title="Conditional loss (cross-entropy)", xlabel="epoch", ylabel="loss")
    for ax, key, title in (
        (critic, "critic_loss", "Critic loss per party"),
        (wasserstein, "wasserstein", "Critic Wasserstein estimate per party"),
    ):
        _party_lines(ax, epochs, history, key)
        ax.set(title=title, xlabel="epoch")
    for ax in (gen, cond, critic, wasserstein):
        _integer_epochs(ax)
    fig.suptitle(f"Training losses over {len(history)} epochs", fontsize=11)
    return figure_markdown(fig, "loss curves")


def _alpha_panel(ax: Any, epochs: list[int], history: Sequence[Mapping[str, Any]]) -> None:
    """Global attention α per party over the epochs (or a note when the strategy has none)."""
    if _party_lines(ax, epochs, history, "alpha"):
        ax.set(ylim=(-0.02, 1.02))
    else:
        _empty(ax, "no global attention\n(this strategy weighs parties equally)")
    ax.set(title="Global attention α (party weight)", xlabel="epoch")


def _pi_panels(axes: list[Any], parties: list[str], epochs: list[int],
               history: Sequence[Mapping[str, Any]]) -> None:
    """Local attention π per class, one panel per party (one colour per class throughout)."""
    classes = _keys([cls for h in history for cls in (h.get("pi") or {}).values()])
    colors = {cls: f"C{i % 10}" for i, cls in enumerate(classes)}
    for ax, party in zip(axes, parties, strict=False):
        for cls in _keys([(h.get("pi") or {}).get(party, {}) for h in history]):
            ax.plot(epochs, [_get(h, "pi", party, cls) for h in history], marker=".",
                    color=colors[cls], label=cls)
        ax.set(title=f"Local attention π: {party}", xlabel="epoch", ylim=(-0.02, 1.02))
        ax.legend(fontsize=7, title="class", title_fontsize=7)


def attention_weights(history: Sequence[Mapping[str, Any]]) -> dg.MetadataValue:
    """Global attention alpha per party, and local attention pi per class, one panel per party."""
    epochs = _epochs(history)
    parties = _keys(history, "pi")
    shown = parties[:_MAX_PARTY_PANELS]
    panels = 1 + max(1, len(shown))
    ncols = 2 if panels <= 4 else 3
    nrows = -(-panels // ncols)
    fig, axes = new_figure(4.0 * ncols, 3.0 * nrows, nrows=nrows, ncols=ncols)
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    _alpha_panel(flat[0], epochs, history)
    _pi_panels(flat[1:], shown, epochs, history)
    if not parties:
        _empty(flat[1], "no local attention\n(this strategy weighs classes equally)")
        flat[1].set(title="Local attention π (class weight)")
    for ax in flat[1 + max(1, len(shown)):]:
        ax.set_visible(False)
    for ax in flat:
        _integer_epochs(ax)
    note = f" (first {len(shown)} of {len(parties)} parties)" if len(parties) > len(shown) else ""
    fig.suptitle(f"Attention weights per epoch{note}", fontsize=11)
    return figure_markdown(fig, "attention weights")


def class_mix(table: pd.DataFrame) -> dg.MetadataValue:
    """Grouped bars of each class's share, real vs synthetic (hatched), per party.

    ``table`` has columns ``party, label_value, real_share, synthetic_share``.
    """
    parties = sorted(table["party"].unique())
    classes = sorted(table["label_value"].astype(str).unique())
    fig, ax = new_figure(max(6.0, 1.2 * len(parties) * max(1, len(classes)) / 2 + 2), 3.6)
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
    ax.set(title="Class mix per party: real vs synthetic (hatched)", ylabel="share of the party",
           ylim=(0, 1.05))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure_markdown(fig, "class mix")


@dataclass(frozen=True)
class ColumnComparison:
    """One column's real and synthetic distribution, ready to plot.

    Discrete: ``real`` and ``synthetic`` map category → share. Continuous: ``synthetic_values``
    holds the synthetic values and ``real_density`` the (x, density) curve of the real data.
    """

    column: str
    kind: str  # "discrete" | "continuous"
    real: Mapping[str, float] = field(default_factory=dict)
    synthetic: Mapping[str, float] = field(default_factory=dict)
    synthetic_values: Any = None
    real_density: tuple[Any, Any] | None = None
    real_source: str = "real"


def column_histograms(columns: Sequence[ColumnComparison]) -> dg.MetadataValue:
    """One panel per column: real vs synthetic shares (discrete) or densities (continuous)."""
    count = max(1, len(columns))
    ncols = min(3, count)
    nrows = -(-count // ncols)
    fig, axes = new_figure(5.4 * ncols, 3.3 * nrows, nrows=nrows, ncols=ncols)
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    for ax, comp in zip(flat, columns, strict=False):
        if comp.kind == "continuous":
            values = np.asarray(comp.synthetic_values, dtype=float)
            values = values[np.isfinite(values)]
            if len(values):
                ax.hist(values, bins=30, density=True, alpha=0.55, color="C1", label="synthetic")
            if comp.real_density is not None:
                xs, ys = comp.real_density
                ax.plot(xs, ys, color="C0", linewidth=1.6, label=comp.real_source)
            ax.set(ylabel="density")
        else:
            order = sorted(set(comp.real) | set(comp.synthetic),
                           key=lambda c: (-comp.real.get(c, 0.0), -comp.synthetic.get(c, 0.0), c))
            top = order[:_MAX_CATEGORIES]
            xs = np.arange(len(top))
            ax.bar(xs - 0.2, [comp.real.get(c, 0.0) for c in top], 0.4, color="C0",
                   label=comp.real_source)
            ax.bar(xs + 0.2, [comp.synthetic.get(c, 0.0) for c in top], 0.4, color="C1",
                   label="synthetic")
            ax.set_xticks(xs, [_short(c) for c in top], rotation=30, ha="right", fontsize=7)
            ax.set(ylabel="share")
            if len(order) > len(top):
                ax.text(0.99, 0.97, f"top {len(top)} of {len(order)}", transform=ax.transAxes,
                        ha="right", va="top", fontsize=7)
        ax.set_title(f"{comp.column} ({comp.kind})", fontsize=10)
        ax.legend(fontsize=7)
    if not columns:
        _empty(flat[0], "no column to compare")
    for ax in flat[len(columns):] if columns else flat[1:]:
        ax.set_visible(False)
    fig.suptitle("Column distributions: real vs synthetic", fontsize=11)
    return figure_markdown(fig, "column histograms")


def utility_bars(utility: pd.DataFrame) -> dg.MetadataValue:
    """TSTR vs TRTR per metric (models averaged): ``utility`` has ``metric, tstr, trtr`` and
    optionally ``ratio`` (TSTR / TRTR, written above the TSTR bars)."""
    fig, ax = new_figure(7.5, 3.6)
    metrics = list(utility["metric"])
    xs = np.arange(len(metrics))
    ax.bar(xs - 0.2, utility["trtr"], 0.4, label="TRTR (train on real)", color="C0")
    bars = ax.bar(xs + 0.2, utility["tstr"], 0.4, label="TSTR (train on synthetic)", color="C1")
    if "ratio" in utility:
        for bar, ratio in zip(bars, utility["ratio"], strict=True):
            if pd.notna(ratio):
                ax.annotate(f"×{ratio:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs), metrics)
    ax.set(title="Utility on the real test set (mean over models; ×TSTR/TRTR)", ylim=(0, 1.1),
           ylabel="score")
    ax.legend(fontsize=8, loc="lower right")
    return figure_markdown(fig, "utility")


def party_rows(party: str, counts: Mapping[str, int]) -> dg.MetadataValue:
    """One bar per count of a party's table (e.g. rows read, rows breaking row rules): a bar
    chart of this party, not a series over the parties' runs."""
    fig, ax = new_figure(6.0, 3.0)
    names = list(counts)
    colors = [f"C{i}" for i in range(len(names))]
    bars = ax.bar(names, [int(counts[n]) for n in names], color=colors)
    for bar, name in zip(bars, names, strict=True):
        ax.annotate(f"{int(counts[name]):,}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set(title=f"party {party}: rows", ylabel="rows")
    return figure_markdown(fig, f"rows of {party}")


# ---------------------------------------------------------------------------------- helpers
def _epochs(history: Sequence[Mapping[str, Any]]) -> list[int]:
    return [int(h.get("epoch", i)) + 1 for i, h in enumerate(history)]


def _get(entry: Mapping[str, Any], *path: str) -> Any:
    value: Any = entry
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _party_lines(ax: Any, epochs: list[int], history: Sequence[Mapping[str, Any]],
                 key: str) -> bool:
    parties = _keys(history, key)
    for index, party in enumerate(parties[:_MAX_LINES]):
        ax.plot(epochs, [_get(h, key, party) for h in history], marker=".",
                color=f"C{index % 10}", label=party)
    if parties:
        ax.legend(fontsize=7)
    else:
        _empty(ax, f"no {key} recorded")
    return bool(parties)


def _integer_epochs(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9,
            color="0.35")
    ax.set_xticks([])
    ax.set_yticks([])


def _short(value: Any, width: int = 14) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _keys(history: Sequence[Mapping[str, Any]], field_name: str | None = None) -> list[str]:
    seen: dict[str, None] = {}
    for entry in history:
        mapping = entry.get(field_name, {}) if field_name else entry
        for key in mapping or {}:
            seen.setdefault(str(key), None)
    return list(seen)
