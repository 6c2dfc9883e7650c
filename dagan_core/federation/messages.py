"""Typed messages between the coordinator and the parties.

What crosses the boundary, and nothing else:
- coordinator -> party: a number of conditions to draw, fake rows the coordinator generated;
- party -> coordinator: conditions (column and category indices, party codes), scalar statistics,
  per-row gradients of the party's loss with respect to the fake rows it was sent (same shape),
  and per-row loss weights (scalars) of the party's local attention.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch


# ---- coordinator -> party ------------------------------------------------------------------
@dataclass(frozen=True)
class ConditionRequest:
    """Draw ``n`` conditions (for the next critic or generator step). ``label_probs``: the class
    mix to draw label conditions from (per-class cross-party weights); empty = the party's own."""

    n: int
    label_probs: tuple[float, ...] = ()


@dataclass(frozen=True)
class CriticStep:
    """Fake rows for the last conditions drawn; train the critic on them."""

    fake_rows: torch.Tensor


@dataclass(frozen=True)
class GeneratorStep:
    """Fake rows for the last conditions drawn; return dLoss/dfake per row."""

    fake_rows: torch.Tensor


@dataclass(frozen=True)
class FitProbe:
    """Draw conditions for measuring fit on rows the critic did not train on."""

    max_rows: int


@dataclass(frozen=True)
class FitFakes:
    """Fake rows for the fit-probe conditions."""

    fake_rows: torch.Tensor


# ---- party -> coordinator ------------------------------------------------------------------
@dataclass(frozen=True)
class Conditions:
    """Condition indices: which discrete column, which category, which party code, per row."""

    blocks: np.ndarray
    categories: np.ndarray
    party_codes: np.ndarray


@dataclass(frozen=True)
class CriticReport:
    """Scalars of one critic step."""

    loss: float
    wasserstein: float
    gradient_penalty: float


@dataclass(frozen=True)
class GeneratorFeedback:
    """Per-row gradients of the party's generator loss w.r.t. the fake rows, and row weights."""

    row_gradients: torch.Tensor
    row_weights: np.ndarray
    loss: float


@dataclass(frozen=True)
class FitReport:
    """Held-out separation of real and fake rows: overall and per label class.

    ``gap`` is 2 * (AUC - 0.5) clipped to [0, 1]; ``class_gaps`` has one entry per label class
    of the global vocabulary (NaN for classes the party does not hold); ``marginal_gap`` is the
    mean per-column total-variation distance of the fakes from the held-out rows
    (:func:`dagan_core.federation.fit_measures.marginal_gap`; NaN when nothing was measured);
    ``heldout_f1`` is the macro-F1 on the held-out rows of a classifier trained on the fakes
    (:func:`dagan_core.federation.fit_measures.heldout_f1`; NaN when nothing was measured or the
    held-out rows hold fewer than 2 label classes).
    """

    gap: float
    class_gaps: tuple[float, ...]
    holdout_rows: int
    marginal_gap: float
    heldout_f1: float


PARTY_REPLIES = (Conditions, CriticReport, GeneratorFeedback, FitReport)


def message_bytes(message: object) -> int:
    """Payload size of a message: tensor/array bytes plus 8 bytes per scalar."""
    total = 0
    for f in fields(message):  # type: ignore[arg-type]
        value = getattr(message, f.name)
        if isinstance(value, torch.Tensor):
            total += value.numel() * value.element_size()
        elif isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, tuple):
            total += 8 * len(value)
        else:
            total += 8
    return total
