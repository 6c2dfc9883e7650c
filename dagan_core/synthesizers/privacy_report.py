"""The privacy accounting saved with a fitted model.

- DP-SGD of the party critics: each party's epsilon (Opacus RDP accountant) and delta.
- FedSyn's weight noise (key ``fedsyn_weight_noise``): the epsilon of one FedAvg round of
  Laplace noise on clipped weight updates, and the epsilon of all rounds composed sequentially.
"""

from __future__ import annotations

from typing import Any

from dagan_core.config import SynthesizerConfig


def fedsyn_epsilon(config: SynthesizerConfig, per_round: float | None,
                   epochs_done: int) -> float | None:
    """Epsilon of every FedAvg round so far (basic sequential composition); None without noise."""
    if per_round is None:
        return None
    return per_round * config.federation.fedsyn_rounds_per_epoch * epochs_done


def _dp_sgd(config: SynthesizerConfig, spent: dict[str, tuple[float, float]]) -> dict[str, Any]:
    priv = config.privacy
    return {
        "mechanism": "DP-SGD of each party's critic (per-pack clipping, Gaussian noise)",
        "accountant": "opacus.accountants.RDPAccountant",
        "sampling": "fixed-size batches without replacement, accounted as Poisson with "
                    "q = rows per step / training rows (an approximation)",
        "noise_multiplier": priv.dp_noise_multiplier,
        "max_grad_norm": priv.dp_max_grad_norm,
        "epsilon": {p: e for p, (e, _) in spent.items()},
        "delta": {p: d for p, (_, d) in spent.items()},
        "covers": "each party's critic's use of its real rows in training steps; "
                  "not the party summaries, the conditions or the training statistics "
                  "(docs/federation.md, section 5)",
    }


def _weight_noise(config: SynthesizerConfig, per_round: float, epochs_done: int
                  ) -> dict[str, Any]:
    fed = config.federation
    return {
        "mechanism": "Laplace noise on the FedAvg average of L-infinity-clipped weight updates",
        "noise_scale": fed.fedsyn_noise_scale,
        "clip": fed.fedsyn_clip,
        "epsilon_per_round": per_round,
        "rounds": fed.fedsyn_rounds_per_epoch * epochs_done,
        "epsilon": fedsyn_epsilon(config, per_round, epochs_done),
        "delta": 0.0,
        "covers": "one party's change to the shared generator and critic weights per round; "
                  "rounds composed sequentially",
    }


def privacy_report(config: SynthesizerConfig, trainer: Any,
                   epochs_done: int) -> dict[str, Any] | None:
    """The privacy figures of a fit (None when no privacy mechanism was on)."""
    spent = trainer.dp_epsilon()
    per_round = trainer.weight_noise_epsilon()
    if spent is None and per_round is None:
        return None
    report = {} if spent is None else _dp_sgd(config, spent)
    if per_round is not None:
        report["fedsyn_weight_noise"] = _weight_noise(config, per_round, epochs_done)
    return report
