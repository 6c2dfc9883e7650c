"""One party's imbalance profile, computed from a whole table or chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dagan_core.errors import InvalidDataError
from dagan_core.profiling.frames import frame, ordered_counts


@dataclass(frozen=True)
class PartyProfile:
    """Imbalance profile of one party's table.

    Attributes:
        party: the party's name (None when profiled alone).
        label: the label column.
        n_rows: rows in the table (including rows whose label is missing).
        class_counts: label value (as str) -> rows, largest first; missing labels are not counted.
        imbalance_ratio: largest / smallest count over the classes present (1.0 for one class).
        label_entropy: Shannon entropy of the label mix divided by log(number of present
            classes), in [0, 1] (0.0 for a single class).
        minority_class: the present class with the fewest rows (ties: smallest name).
        category_frequencies: discrete column -> value (as str) -> share among its non-null rows.
        null_rates: column -> share of missing cells.
    """

    party: str | None
    label: str
    n_rows: int
    class_counts: dict[str, int]
    imbalance_ratio: float
    label_entropy: float
    minority_class: str
    category_frequencies: dict[str, dict[str, float]] = field(default_factory=dict)
    null_rates: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.n_rows < 1:
            raise InvalidDataError("a profile needs at least one row", party=self.party)
        if not self.class_counts or min(self.class_counts.values()) < 1:
            raise InvalidDataError("class_counts must hold positive counts", party=self.party,
                                   column=self.label)
        if self.minority_class not in self.class_counts:
            raise InvalidDataError("minority_class is not among class_counts", party=self.party,
                                   column=self.label, value=self.minority_class)
        if self.imbalance_ratio < 1 or not 0 <= self.label_entropy <= 1 + 1e-9:
            raise InvalidDataError("imbalance_ratio must be >= 1 and label_entropy in [0, 1]",
                                   party=self.party, column=self.label)

    @property
    def class_shares(self) -> dict[str, float]:
        """Label value -> share among labelled rows."""
        total = sum(self.class_counts.values())
        return {k: v / total for k, v in self.class_counts.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every field."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """Long tidy frame (party, kind, column, value, metric), one number per row."""
        p, lab = self.party, self.label
        rows: list[tuple[Any, ...]] = [
            (p, "n_rows", None, None, self.n_rows),
            (p, "imbalance_ratio", lab, None, self.imbalance_ratio),
            (p, "label_entropy", lab, None, self.label_entropy),
            (p, "minority_class", lab, self.minority_class,
             self.class_counts[self.minority_class]),
        ]
        shares = self.class_shares
        for cls, count in self.class_counts.items():
            rows.append((p, "class_count", lab, cls, count))
            rows.append((p, "class_share", lab, cls, shares[cls]))
        for col, freqs in self.category_frequencies.items():
            rows.extend((p, "category_share", col, val, share) for val, share in freqs.items())
        rows.extend((p, "null_rate", col, None, rate) for col, rate in self.null_rates.items())
        return frame(rows)


def _infer_discrete(df: pd.DataFrame, label: str) -> list[str]:
    cols = [
        c for c in df.columns
        if isinstance(df[c].dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(df[c])
        or pd.api.types.is_bool_dtype(df[c])
        or pd.api.types.is_string_dtype(df[c])
    ]
    return cols if label in cols else [*cols, label]


def profile_party(
    df: pd.DataFrame,
    label: str,
    discrete_columns: Sequence[str] | None = None,
    party: str | None = None,
) -> PartyProfile:
    """Profile one party's table.

    Args:
        df: the party's rows.
        label: the label column.
        discrete_columns: columns whose category shares are reported; None infers them
            (object, string, category and bool columns, plus the label).
        party: the party's name, used in errors and in the profile.

    Returns:
        The party's :class:`PartyProfile`.

    Raises:
        InvalidDataError: the frame is empty, lacks the label or a listed discrete column, or
            has no labelled row.
    """
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise InvalidDataError("the table is empty", party=party)
    return profile_party_chunks([df], label, discrete_columns, party)


def profile_party_chunks(
    chunks: Iterable[pd.DataFrame],
    label: str,
    discrete_columns: Sequence[str] | None = None,
    party: str | None = None,
) -> PartyProfile:
    """Profile a party's table given in chunks (rows split anyhow, same columns in each).

    The result equals :func:`profile_party` on the whole table; memory holds one chunk and the
    counts (rows, label classes, categories of the discrete columns, missing values per column).
    """
    counts = PartyCounts(label, discrete_columns, party)
    for chunk in chunks:
        counts.add(chunk)
    return counts.profile()


class PartyCounts:
    """The counts a :class:`PartyProfile` is made of, added up chunk by chunk."""

    def __init__(
        self, label: str, discrete_columns: Sequence[str] | None = None, party: str | None = None
    ) -> None:
        self.label = label
        self.party = party
        self._requested = None if discrete_columns is None else list(discrete_columns)
        self.discrete: list[str] | None = None
        self.n_rows = 0
        self.classes: dict[str, int] = {}
        self.categories: dict[str, dict[str, int]] = {}
        self.nulls: dict[str, int] = {}

    def _start(self, df: pd.DataFrame) -> None:
        if self.label not in df.columns:
            raise InvalidDataError("label column is missing", party=self.party, column=self.label)
        if self._requested is None:
            discrete = _infer_discrete(df, self.label)
        else:
            discrete = list(dict.fromkeys([*self._requested, self.label]))
        for col in discrete:
            if col not in df.columns:
                raise InvalidDataError("discrete column is missing", party=self.party, column=col)
        self.discrete = discrete
        self.categories = {col: {} for col in discrete}
        self.nulls = {str(c): 0 for c in df.columns}

    @staticmethod
    def _add_counts(into: dict[str, int], values: pd.Series) -> None:
        for value, n in values.dropna().astype(str).value_counts(sort=False).items():
            into[str(value)] = into.get(str(value), 0) + int(n)

    def add(self, df: pd.DataFrame) -> None:
        """Count one chunk of the table (chunks without rows add nothing)."""
        if not isinstance(df, pd.DataFrame):
            raise InvalidDataError("a chunk of the table is not a data frame", party=self.party)
        if len(df) == 0:
            return
        if self.discrete is None:
            self._start(df)
        assert self.discrete is not None
        self.n_rows += len(df)
        self._add_counts(self.classes, df[self.label])
        for col in self.discrete:
            self._add_counts(self.categories[col], df[col])
        for col, n in df.isna().sum().items():
            self.nulls[str(col)] = self.nulls.get(str(col), 0) + int(n)

    def profile(self) -> PartyProfile:
        """The profile of every row counted so far."""
        if self.n_rows == 0:
            raise InvalidDataError("the table is empty", party=self.party)
        if not self.classes:
            raise InvalidDataError("no row has a label", party=self.party, column=self.label)
        class_counts = ordered_counts(self.classes)
        values = np.array(list(class_counts.values()), dtype=float)
        probs = values / values.sum()
        k = len(values)
        entropy = float(-(probs * np.log(probs)).sum() / np.log(k)) if k > 1 else 0.0
        minority = min(class_counts, key=lambda c: (class_counts[c], c))
        frequencies: dict[str, dict[str, float]] = {}
        for col, counts in self.categories.items():
            total = sum(counts.values())
            shares = {value: n / total for value, n in counts.items()}
            frequencies[col] = dict(sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])))
        return PartyProfile(
            party=self.party,
            label=self.label,
            n_rows=self.n_rows,
            class_counts=class_counts,
            imbalance_ratio=float(values.max() / values.min()),
            label_entropy=min(1.0, max(0.0, entropy)),
            minority_class=minority,
            category_frequencies=frequencies,
            null_rates={col: n / self.n_rows for col, n in self.nulls.items()},
        )


