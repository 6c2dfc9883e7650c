"""The real benchmark tables (``adult``, ``bank``, ``covertype``, ``credit``, ``intrusion``),
read from a datasets folder in a uniform shape."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.imbalance import class_groups, largest_remainder
from dagan_core.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchmarkTable:
    """A real benchmark table.

    Attributes:
        train: training rows (index = row position in the source file).
        test: the official test split, or None (``build_scenario`` then holds one out).
        label: the label column.
        discrete_columns: categorical columns, the label included.
    """

    train: pd.DataFrame
    test: pd.DataFrame | None
    label: str
    discrete_columns: tuple[str, ...]


_ADULT_DISCRETE = ("workclass", "education", "marital-status", "occupation", "relationship",
                   "race", "sex", "native-country", "income")
_BANK_DISCRETE = ("job", "marital", "education", "default", "housing", "loan", "contact",
                  "month", "poutcome", "y")
_INTRUSION_DISCRETE = ("protocol_type", "service", "flag", "land", "logged_in", "is_guest_login",
                       "is_host_login", "root_shell", "su_attempted", "class")
# name -> (train file, test file or None, label, discrete columns incl. label)
_BENCHMARKS: dict[str, tuple[str, str | None, str, tuple[str, ...]]] = {
    "adult": ("adult.csv", "adult_test.csv", "income", _ADULT_DISCRETE),
    "bank": ("bank.csv", None, "y", _BANK_DISCRETE),
    "covertype": ("covertype.csv", None, "Cover_Type",
                  ("Wilderness_Area", "Soil_Type", "Cover_Type")),
    "credit": ("credit.csv.gz", None, "Class", ("Class",)),
    "intrusion": ("intrusion.csv", None, "class", _INTRUSION_DISCRETE),
}
BENCHMARKS = tuple(sorted(_BENCHMARKS))


def _collapse_one_hot(df: pd.DataFrame, prefix: str, label: str) -> pd.DataFrame:
    """Replace the 0/1 columns ``prefix1..prefixM`` by one column holding the set column's name."""
    cols = [c for c in df.columns if c.startswith(prefix) and c[len(prefix):].isdigit()]
    names = np.array(cols, dtype=object)[df[cols].to_numpy().argmax(axis=1)]
    out = df.drop(columns=cols)
    out.insert(out.columns.get_loc(label), prefix, names)
    return out


def _stratified_subsample(df: pd.DataFrame, label: str, max_rows: int, seed: int) -> pd.DataFrame:
    """``max_rows`` rows keeping the class mix (each class keeps >= 1 row), source order kept."""
    codes, classes = pd.factorize(df[label].astype(str), sort=True)
    rng = np.random.default_rng(seed)
    groups = class_groups(codes, len(classes), rng)
    sizes = np.array([len(g) for g in groups])
    floor = np.minimum(sizes, 1 if max_rows >= len(sizes) else 0)
    quota = floor + largest_remainder((sizes - floor).astype(float), max_rows - int(floor.sum()))
    quota = np.minimum(quota, sizes)
    keep = np.sort(np.concatenate([g[:q] for g, q in zip(groups, quota)]))
    return df.iloc[keep]


def _tidy(name: str, frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Covertype's one-hot groups collapsed into one column each; Credit's labels as integers."""
    if name == "covertype":
        return _collapse_one_hot(_collapse_one_hot(frame, "Wilderness_Area", label),
                                 "Soil_Type", label)
    if name == "credit":
        return frame.astype({label: np.int64})
    return frame


def benchmark_files(name: str, datasets_dir: str | Path) -> list[Path]:
    """The files of benchmark ``name`` in ``datasets_dir`` (training table, then test split).

    Raises:
        ConfigError: unknown name, or a file that is not there.
    """
    if name not in _BENCHMARKS:
        raise ConfigError(f"unknown benchmark {name!r}; valid names: {', '.join(BENCHMARKS)}")
    train_file, test_file, _, _ = _BENCHMARKS[name]
    folder = Path(datasets_dir)
    paths = [folder / f for f in (train_file, test_file) if f is not None]
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"benchmark file {path} not found")
    return paths


def load_benchmark(
    name: str,
    datasets_dir: str | Path,
    max_rows: int | None = None,
    seed: int = 0,
) -> BenchmarkTable:
    """Load a real benchmark table from ``datasets_dir`` (see the README of ``shared/datasets``).

    ``covertype`` has its one-hot groups collapsed into ``Wilderness_Area`` and ``Soil_Type``
    (values are the original column names, e.g. ``Soil_Type10``); ``credit`` has integer labels.
    Only ``adult`` has an official test split.

    Args:
        name: one of ``adult``, ``bank``, ``covertype``, ``credit``, ``intrusion``.
        datasets_dir: the folder holding the CSV files.
        max_rows: when set and smaller than the training table, a seeded stratified subsample of
            that many training rows (the test split is not subsampled).
        seed: seed of the subsample.

    Returns:
        The :class:`BenchmarkTable`.

    Raises:
        ConfigError: unknown name, bad ``max_rows`` or a missing file.
    """
    if max_rows is not None and max_rows < 1:
        raise ConfigError(f"max_rows={max_rows!r} is invalid: must be None or >= 1")
    paths = benchmark_files(name, datasets_dir)
    _, _, label, discrete = _BENCHMARKS[name]
    frames = [_tidy(name, pd.read_csv(path), label) for path in paths]
    train = frames[0]
    if max_rows is not None and max_rows < len(train):
        train = _stratified_subsample(train, label, max_rows, seed)
    test = frames[1] if len(frames) > 1 else None
    logger.info("loaded benchmark %s: %d train rows, %s test rows", name, len(train),
                None if test is None else len(test))
    return BenchmarkTable(train=train, test=test, label=label, discrete_columns=discrete)
