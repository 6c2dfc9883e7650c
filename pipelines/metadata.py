"""Small builders of Dagster materialization metadata (Markdown tables, inline PNG plots).

Plots are rendered with matplotlib's Agg backend into a PNG that is embedded in Markdown as a
base64 data URI, which the Dagster UI renders inline. matplotlib is imported lazily.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
import pandas as pd


def md_table(df: pd.DataFrame, *, max_rows: int = 60, floatfmt: str = ".4g") -> dg.MetadataValue:
    """A DataFrame as a Markdown table (truncated to ``max_rows``)."""
    shown = df.head(max_rows)
    text = shown.to_markdown(index=False, floatfmt=floatfmt) if len(shown) else "_(no rows)_"
    if len(df) > max_rows:
        text += f"\n\n_{len(df) - max_rows} more rows not shown_"
    return dg.MetadataValue.md(text)


def column_schema(
    columns: Iterable[tuple[str, str]], descriptions: Mapping[str, str] | None = None
) -> dg.TableSchema:
    """``dg.TableSchema`` from ``(name, type)`` pairs, with each column's description if known."""
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(str(n), str(t), description=descriptions.get(str(n)))
            for n, t in columns
        ]
    )


def json_value(payload: Any) -> dg.MetadataValue:
    """JSON metadata that survives numpy scalars and tuples."""
    return dg.MetadataValue.json(json.loads(json.dumps(payload, default=_jsonable)))


def figure_markdown(fig: Any, alt: str, *, dpi: int = 80) -> dg.MetadataValue:
    """A matplotlib figure as an inline PNG in Markdown; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})")


def new_figure(
    width: float = 7.0, height: float = 3.5, ncols: int = 1, nrows: int = 1
) -> tuple[Any, Any]:
    """A (figure, axes) pair on the non-interactive Agg backend.

    ``axes`` is one Axes for a single panel, a list for one row of several, and a list of rows
    for a grid.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, height), squeeze=False, layout="constrained"
    )
    if nrows == 1 and ncols == 1:
        return fig, axes[0][0]
    if nrows == 1:
        return fig, list(axes[0])
    return fig, [list(row) for row in axes]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
