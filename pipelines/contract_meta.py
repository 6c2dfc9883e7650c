"""What the committed party-table contract says about the model's columns.

The contract suite (``data_contracts/suites/party_table.json``, a Great Expectations 1.x suite)
carries in its ``meta`` block the ``label`` column and the ``discrete_columns``. Training reads
them here, as plain JSON, so no dataset is hard-coded and GX is not imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipelines import settings

CONTRACT_PATH = settings.REPO_ROOT / "data_contracts" / "suites" / "party_table.json"


@dataclass(frozen=True)
class ModelColumns:
    """The label column and the discrete columns (the label included) of the shared schema."""

    label: str
    discrete_columns: tuple[str, ...]


def model_columns(path: Path | None = None) -> ModelColumns:
    """Read ``label`` and ``discrete_columns`` from the contract's ``meta``.

    Raises:
        ValueError: naming the file when either entry is missing or malformed.
    """
    path = Path(path) if path else CONTRACT_PATH
    meta = json.loads(path.read_text(encoding="utf-8")).get("meta") or {}
    label = meta.get("label")
    discrete = meta.get("discrete_columns")
    if not isinstance(label, str) or not label:
        raise ValueError(f"{path}: meta.label must name the label column")
    if not isinstance(discrete, list) or not all(isinstance(c, str) for c in discrete):
        raise ValueError(f"{path}: meta.discrete_columns must be a list of column names")
    if label not in discrete:
        discrete = [*discrete, label]
    return ModelColumns(label=label, discrete_columns=tuple(discrete))
