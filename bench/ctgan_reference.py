"""The benchmark's ``ctgan`` reference: the ``ctgan`` package's CTGAN on the pooled rows.

The package is an optional dependency (``pip install -e .[bench]``) and is imported only here,
inside the measuring process. CTGAN sees the rows of every party pooled, without the party
column, and keeps its own defaults (batch 500, pac 10, 256-256 networks); only the number of
epochs, the seed, the device (and for the scaling runs the batch size) come from the tool.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

INSTALL_HINT = "pip install -e .[bench]"


@dataclass(frozen=True)
class CtganFit:
    """What the benchmark keeps of one CTGAN fit.

    Attributes:
        rows: the sampled synthetic rows (no party column).
        fit_seconds: the whole ``fit`` call, data-transformer fit included.
        epoch_seconds: one entry per epoch of the training loop only (empty if it could not be
            measured).
        sample_seconds: the ``sample`` call.
    """

    rows: pd.DataFrame
    fit_seconds: float
    epoch_seconds: list[float]
    sample_seconds: float


def import_ctgan() -> type:
    """The package's ``CTGAN`` class, or an ImportError that says how to install it."""
    try:
        from ctgan import CTGAN
    except ImportError as err:
        raise ImportError(f"the ctgan variant needs the ctgan package: {INSTALL_HINT}") from err
    return CTGAN


def timed_ctgan_class() -> type:
    """A CTGAN subclass that stamps the time of every assignment to its ``loss_values``.

    How the epochs are timed: CTGAN's ``fit`` assigns its public ``loss_values`` attribute once
    right before its training loop (after the data transformer is fitted and the rows are
    transformed) and once at the end of every epoch. The differences between consecutive stamps
    are therefore the epochs of the training loop alone; the transformer is not in them.
    """
    base = import_ctgan()

    class TimedCTGAN(base):
        @property
        def loss_values(self):
            return self.__dict__.get("_timed_loss_values")

        @loss_values.setter
        def loss_values(self, value):
            self.__dict__.setdefault("loss_stamps", []).append(time.perf_counter())
            self.__dict__["_timed_loss_values"] = value

    return TimedCTGAN


def fit_timed_ctgan(pooled: pd.DataFrame, discrete_columns: Sequence[str], *, epochs: int,
                    seed: int, use_gpu: bool, batch_size: int = 500,
                    backend: str = "sequential") -> tuple[Any, float, list[float]]:
    """Fit CTGAN on ``pooled`` (no party column) and time it.

    Args:
        pooled: every party's training rows, label included.
        discrete_columns: the discrete columns, label included.
        epochs: training epochs.
        seed: the package's random state.
        use_gpu: CTGAN's ``enable_gpu`` (it then uses CUDA when present).
        batch_size: CTGAN's batch size (500 is its own default).
        backend: the joblib backend of CTGAN's data transformer, which runs
            ``joblib.Parallel(n_jobs=-1)`` on tables over 500 rows; ``sequential`` or
            ``threading`` leave no worker processes behind.

    Returns:
        The fitted model (sample it inside the same ``backend``, see
        :func:`fit_and_sample_ctgan`), the seconds of the whole ``fit`` call and one entry per
        epoch of the training loop alone (empty if the stamps do not match the epochs).

    Raises:
        ImportError: the package is missing; the message says ``pip install -e .[bench]``.
    """
    from joblib import parallel_config

    model = timed_ctgan_class()(epochs=epochs, batch_size=batch_size, enable_gpu=use_gpu,
                                verbose=False)
    model.set_random_state(seed)
    model.loss_stamps = []  # drop the stamp of the constructor's own assignment
    with parallel_config(backend=backend):
        start = time.perf_counter()
        model.fit(pooled, discrete_columns=list(discrete_columns))
        fit_seconds = time.perf_counter() - start
    stamps = model.loss_stamps
    # one stamp before the loop plus one per epoch; anything else means the package changed
    epoch_seconds = ([b - a for a, b in zip(stamps, stamps[1:])]
                     if len(stamps) == epochs + 1 else [])
    return model, fit_seconds, epoch_seconds


def fit_and_sample_ctgan(pooled: pd.DataFrame, discrete_columns: Sequence[str], n_rows: int, *,
                         epochs: int, seed: int, use_gpu: bool) -> CtganFit:
    """Fit CTGAN on ``pooled`` (no party column) with its defaults and sample ``n_rows`` rows,
    its data transformer kept sequential (every benchmark job gets one core).

    Args:
        pooled: every party's training rows, label included.
        discrete_columns: the discrete columns, label included.
        n_rows: rows to sample.
        epochs: training epochs.
        seed: the package's random state (fit and sample).
        use_gpu: CTGAN's ``enable_gpu`` (it then uses CUDA when present).

    Raises:
        ImportError: the package is missing; the message says ``pip install -e .[bench]``.
    """
    from joblib import parallel_config

    model, fit_seconds, epoch_seconds = fit_timed_ctgan(
        pooled, discrete_columns, epochs=epochs, seed=seed, use_gpu=use_gpu)
    with parallel_config(backend="sequential"):
        start = time.perf_counter()
        rows = model.sample(n_rows)
    return CtganFit(rows=rows, fit_seconds=fit_seconds, epoch_seconds=epoch_seconds,
                    sample_seconds=time.perf_counter() - start)
