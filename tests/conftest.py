"""Shared test setup: quiet analytics, one torch thread, tiny seeded party tables."""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    import torch

    torch.set_num_threads(1)


def make_party(
    n: int, seed: int, pos_share: float, colors=("red", "green", "blue")
) -> pd.DataFrame:
    """A small mixed-type table whose label depends on its features."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    amount = np.round(rng.gamma(2.0, 50.0, n), 2)
    color = rng.choice(list(colors), n)
    y = np.where(rng.random(n) < pos_share, "yes", "no")
    amount = amount + np.where(y == "yes", 80.0, 0.0)
    return pd.DataFrame({"age": age, "amount": amount, "color": color, "y": y})


def three_parties() -> dict[str, pd.DataFrame]:
    """Three parties with double imbalance; party_c holds no 'yes' and no 'blue'."""
    return {
        "party_a": make_party(240, 1, 0.3),
        "party_b": make_party(90, 2, 0.6),
        "party_c": make_party(40, 3, 0.0, colors=("red", "green")),
    }


@pytest.fixture
def tiny_parties() -> dict[str, pd.DataFrame]:
    """:func:`three_parties`, fresh for each test."""
    return three_parties()


TINY = dict(epochs=2, batch_size=60, generator_dims=(32, 32), critic_dims=(32, 32),
            embedding_dim=16, pac=5, seed=0, device="cpu", min_holdout_rows=10)
