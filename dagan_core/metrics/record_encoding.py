"""How the privacy metrics encode records: one row of numbers per record, distances between them.

Discrete columns are one-hot (two rows differing in one category are sqrt(2) apart; categories
the encoder never saw encode as all zeros); continuous columns are median-imputed then min-max
scaled with the range of the rows the encoder is fitted on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from dagan_core.metrics.base import category_strings


def prepare_columns(df: pd.DataFrame, discrete: list[str], continuous: list[str]) -> pd.DataFrame:
    """The compared columns: discrete ones as category strings, continuous ones as floats."""
    out = pd.DataFrame(index=df.index)
    for col in discrete:
        out[col] = category_strings(df[col])
    for col in continuous:
        out[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return out


def column_encoder(discrete: list[str], continuous: list[str]) -> ColumnTransformer:
    """One-hot discrete columns, median-imputed and min-max-scaled continuous columns."""
    return ColumnTransformer([
        ("discrete", OneHotEncoder(handle_unknown="ignore", sparse_output=False), discrete),
        ("continuous", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                     MinMaxScaler()), continuous),
    ])


def subsample(df: pd.DataFrame, max_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``max_rows`` rows drawn without replacement, kept in their order."""
    if len(df) <= max_rows:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=max_rows, replace=False))]
