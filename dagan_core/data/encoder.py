"""The global table encoder, built by the coordinator from party summaries only.

Continuous value x in mode k (mean mu_k, std sigma_k) encodes to
``alpha = clip((x - mu_k) / (4 sigma_k), -0.99, 0.99)`` plus a one-hot of k (mode-specific
normalisation); k is the most probable mode. Discrete values encode to a one-hot over the global
vocabulary (the union of the parties' categories in a deterministic order). Rows are encoded at
the party that holds them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dagan_core.data.layout import ColumnLayout
from dagan_core.data.schema import CONTINUOUS, TableSchema
from dagan_core.data.summary import (
    Mixture,
    PartySummary,
    category_key,
    merge_mixtures,
    sort_categories,
)
from dagan_core.errors import InvalidDataError

ALPHA_CLIP = 0.99


@dataclass
class TableEncoder:
    """Encodes and decodes rows; holds no row."""

    schema: TableSchema
    vocab: dict[str, list[Any]]
    mixtures: dict[str, Mixture]
    layout: ColumnLayout

    @classmethod
    def from_summaries(
        cls, schema: TableSchema, summaries: Sequence[PartySummary], max_modes: int, seed: int
    ) -> TableEncoder:
        """Merge party summaries into the global encoding (runs at the coordinator)."""
        vocab: dict[str, list[Any]] = {}
        mixtures: dict[str, Mixture] = {}
        for i, spec in enumerate(schema.columns):
            if spec.kind == CONTINUOUS:
                mixtures[spec.name] = merge_mixtures(
                    [(s.mixtures[spec.name], s.n_rows) for s in summaries], max_modes, seed + i
                )
            else:
                seen = {v for s in summaries for v, n in s.category_counts[spec.name] if n > 0}
                vocab[spec.name] = sort_categories(list(seen))
        return cls.from_parts(schema, vocab, mixtures)

    @classmethod
    def from_parts(
        cls, schema: TableSchema, vocab: dict[str, list[Any]], mixtures: dict[str, Mixture]
    ) -> TableEncoder:
        """Assemble from vocabularies and mixtures (also used when loading a checkpoint)."""
        columns = [
            (c.name, c.kind,
             len(mixtures[c.name].weights) if c.kind == CONTINUOUS else len(vocab[c.name]))
            for c in schema.columns
        ]
        return cls(schema, vocab, mixtures, ColumnLayout.build(columns, schema.label))

    def encode(self, df: pd.DataFrame, party: str | None = None) -> np.ndarray:
        """Encode a validated table to a float32 matrix of width ``layout.data_dim``."""
        out = np.zeros((len(df), self.layout.data_dim), dtype=np.float32)
        rows = np.arange(len(df))
        spans = iter(self.layout.spans)
        for spec in self.schema.columns:
            span = next(spans)
            if spec.kind == CONTINUOUS:
                mode_span = next(spans)
                x = df[spec.name].to_numpy(np.float64)
                mix = self.mixtures[spec.name]
                mu, sd, w = (np.asarray(a) for a in (mix.means, mix.stds, mix.weights))
                z = (x[:, None] - mu[None, :]) / sd[None, :]
                logp = -0.5 * z**2 - np.log(sd)[None, :] + np.log(w)[None, :]
                k = logp.argmax(axis=1)
                out[:, span.start] = np.clip(z[rows, k] / 4.0, -ALPHA_CLIP, ALPHA_CLIP)
                out[rows, mode_span.start + k] = 1.0
            else:
                lookup = {v: i for i, v in enumerate(self.vocab[spec.name])}
                keys = [category_key(v) for v in df[spec.name].tolist()]
                idx = np.fromiter((lookup.get(v, -1) for v in keys), dtype=np.int64,
                                  count=len(keys))
                if (idx < 0).any():
                    bad = keys[int(np.flatnonzero(idx < 0)[0])]
                    raise InvalidDataError("category was not seen when the encoder was built",
                                           party=party, column=spec.name, value=bad)
                out[rows, span.start + idx] = 1.0
        return out

    def decode(self, data: np.ndarray) -> pd.DataFrame:
        """Decode an encoded (or generated) matrix back to a table with the schema's dtypes."""
        cols: dict[str, Any] = {}
        spans = iter(self.layout.spans)
        for spec in self.schema.columns:
            span = next(spans)
            if spec.kind == CONTINUOUS:
                mode_span = next(spans)
                mix = self.mixtures[spec.name]
                k = data[:, mode_span.start:mode_span.end].argmax(axis=1)
                alpha = np.clip(data[:, span.start], -1.0, 1.0)
                x = alpha * 4.0 * np.asarray(mix.stds)[k] + np.asarray(mix.means)[k]
                x = np.clip(x, mix.minimum, mix.maximum)
                if spec.dtype == "int":
                    cols[spec.name] = np.round(x).astype(np.int64)
                else:
                    cols[spec.name] = x
            else:
                idx = data[:, span.start:span.end].argmax(axis=1)
                vocab = self.vocab[spec.name]
                lookup = np.empty(len(vocab), dtype=object)
                lookup[:] = vocab
                series = pd.Series(lookup[idx])
                if spec.dtype in ("int", "bool") and None not in vocab:
                    series = series.astype("int64" if spec.dtype == "int" else "bool")
                cols[spec.name] = series.to_numpy()
        return pd.DataFrame(cols, columns=self.schema.names)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (vocabularies, mixtures, schema; no rows)."""
        return {
            "schema": self.schema.to_dict(),
            "vocab": self.vocab,
            "mixtures": {c: m.to_dict() for c, m in self.mixtures.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TableEncoder:
        """Inverse of :meth:`to_dict`."""
        return cls.from_parts(
            TableSchema.from_dict(d["schema"]),
            {c: list(v) for c, v in d["vocab"].items()},
            {c: Mixture.from_dict(m) for c, m in d["mixtures"].items()},
        )
