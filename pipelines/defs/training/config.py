"""Run configuration of the training asset: one field per dagan_core hyperparameter.

Field names are exactly the flat names of ``dagan_core.SynthesizerConfig.hyperparameter_names()``
and defaults are dagan_core's own (read from its frozen dataclasses), except ``epochs``, which is
demo-sized, and ``threads`` (how many CPU threads the step uses, see :mod:`pipelines.threads`),
which is not a hyperparameter. Attention switches default to ``None``: the strategy's preset
decides (on for ``dagan``, off for the baselines); set them to compare ablations. Differential
privacy of the critics is off unless ``dp_noise_multiplier`` is set.
"""

from __future__ import annotations

from typing import Any, Literal

import dagster as dg
from pydantic import Field

from dagan_core.config import (
    AttentionConfig,
    FederationConfig,
    ModelConfig,
    PrivacyConfig,
    SynthesizerConfig,
    TrainConfig,
)
from dagan_core.strategies import get_strategy, strategy_names

_M, _T, _A, _F = ModelConfig(), TrainConfig(), AttentionConfig(), FederationConfig()
_P = PrivacyConfig()

#: Epochs of a pipeline run unless configured (dagan_core's library default is far longer).
DEMO_EPOCHS = 10


#: The registered strategies of dagan_core (the launchpad's choices follow the registry).
Strategy = Literal[strategy_names()]  # type: ignore[valid-type]


#: Fields of the training config that are pipeline settings, not dagan_core hyperparameters.
PIPELINE_FIELDS = frozenset({"strategy", "empty_party", "threads"})


class TrainingConfig(dg.Config):
    """Which synthesizer to train and with which hyperparameters (see dagan_core.config)."""

    strategy: Strategy = Field(
        default="dagan",
        description="dagan or a baseline: " + "; ".join(
            f"{name}: {get_strategy(name).summary}" for name in strategy_names()),
    )
    empty_party: Literal["exclude", "block"] = Field(
        default="exclude",
        description="A party that cannot take part (no valid rows, or a column empty in every "
        "row): exclude = train the others without it, with a warning and the reason in the "
        "metadata; block = refuse to train, naming the party and what to do.",
    )
    # ModelConfig
    embedding_dim: int = Field(default=_M.embedding_dim, description="Size of the noise z.")
    generator_dims: list[int] = Field(
        default=list(_M.generator_dims), description="Widths of the generator's residual blocks."
    )
    critic_dims: list[int] = Field(
        default=list(_M.critic_dims), description="Widths of each critic's hidden layers."
    )
    party_embedding_dim: int = Field(
        default=_M.party_embedding_dim, description="Size of the learned party code."
    )
    pac: int | None = Field(
        default=_M.pac,
        description="PacGAN pack size (reduced for tiny parties); None = 1 when the pooled "
        "label's rarest class holds under 2 % of the rows, else 10.",
    )
    max_modes: int | None = Field(
        default=None,
        description="Most mixture modes per column; None = the party summaries' value (set on "
        "party_summary; a different value here is refused).",
    )
    gumbel_tau: float = Field(default=_M.gumbel_tau, description="Gumbel-softmax temperature.")
    critic_dropout: float = Field(default=_M.critic_dropout, description="Critic dropout rate.")
    # TrainConfig
    epochs: int = Field(default=DEMO_EPOCHS, description="Passes over the pooled row count.")
    batch_size: int = Field(default=_T.batch_size, description="Rows generated per step.")
    generator_lr: float = Field(default=_T.generator_lr, description="Generator Adam rate.")
    critic_lr: float = Field(default=_T.critic_lr, description="Critic Adam rate.")
    weight_decay: float = Field(default=_T.weight_decay, description="Adam weight decay.")
    critic_steps: int = Field(default=_T.critic_steps, description="Critic steps per G step.")
    gp_lambda: float = Field(default=_T.gp_lambda, description="Gradient-penalty weight.")
    cond_loss_weight: float = Field(
        default=_T.cond_loss_weight, description="Weight of the conditional cross-entropy."
    )
    label_condition_prob: float = Field(
        default=_T.label_condition_prob, description="Share of steps conditioned on the label."
    )
    class_loss_weight: float = Field(
        default=_T.class_loss_weight,
        description="Weight of a class term from each party's own label classifier; 0 = off.",
    )
    generator_ema: float | None = Field(
        default=None,
        description="Decay per step of the moving average of the generator's weights, which "
        "is measured, kept and released; 0 = off; None = the strategy's preset (fedsyn: 0), "
        f"else {_T.generator_ema}.",
    )
    seed: int = Field(default=_T.seed, description="Seed of every random draw.")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Torch device.")
    batched_critics: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Parties' critics as one stacked bank: on, off, auto (on for CUDA only).",
    )
    patience: int = Field(
        default=_T.patience,
        description="Stop after this many epochs without a better fit score (the parties' "
        "held-out F1 of a classifier trained on generated rows, and their marginal gap) and "
        "keep the best epoch's generator; 0 = train every epoch and keep the last.",
    )
    min_delta: float = Field(default=_T.min_delta, description="Least fit-score improvement.")
    min_epochs: int = Field(default=_T.min_epochs, description="Epochs before patience counts.")
    max_steps: int | None = Field(
        default=_T.max_steps, description="Budget in generator steps; None = no limit."
    )
    max_seconds: float | None = Field(
        default=_T.max_seconds, description="Budget in seconds of training; None = no limit."
    )
    # AttentionConfig
    local_attention: bool | None = Field(
        default=None, description="Local attention over classes; None = strategy preset."
    )
    local_beta: float = Field(default=_A.local_beta, description="Class prior exponent beta.")
    local_eta: float = Field(default=_A.local_eta, description="Gap sensitivity of local attn.")
    local_weight_clip: float = Field(
        default=_A.local_weight_clip, description="Clip of per-sample loss weights."
    )
    global_attention: bool | None = Field(
        default=None, description="Global attention over parties; None = strategy preset."
    )
    global_rho: float = Field(default=_A.global_rho, description="Size prior of alpha.")
    global_eta: float = Field(default=_A.global_eta, description="Gap sensitivity of alpha.")
    gap_momentum: float = Field(default=_A.gap_momentum, description="Smoothing of fit gaps.")
    alpha_floor: float = Field(default=_A.alpha_floor, description="Least share of each party.")
    class_alpha: bool | None = Field(
        default=None,
        description="Per-class cross-party weights (party, class cells); None = strategy preset.",
    )
    class_rho: float = Field(default=_A.class_rho, description="Share prior of class_alpha.")
    # FederationConfig
    holdout_fraction: float = Field(
        default=_F.holdout_fraction, description="Rows each critic never trains on."
    )
    min_holdout_rows: int = Field(
        default=_F.min_holdout_rows, description="Smallest holdout worth keeping."
    )
    fedsyn_rounds_per_epoch: int = Field(
        default=_F.fedsyn_rounds_per_epoch, description="FedAvg rounds per epoch (FedSyn)."
    )
    fedsyn_noise_scale: float = Field(
        default=_F.fedsyn_noise_scale, description="Laplace noise on shared weights (FedSyn)."
    )
    fedsyn_clip: float = Field(default=_F.fedsyn_clip, description="Update clip (FedSyn).")
    # PrivacyConfig
    dp_noise_multiplier: float | None = Field(
        default=_P.dp_noise_multiplier,
        description="DP-SGD noise multiplier of every party's critic; empty/None = DP off. "
        "Epsilon spent per party is reported per epoch (docs/federation.md, section 5).",
    )
    dp_max_grad_norm: float = Field(
        default=_P.dp_max_grad_norm, description="DP-SGD clip norm of each pack's gradient."
    )
    dp_delta: float | None = Field(
        default=_P.dp_delta, description="Delta of the reported epsilon; None = 1/party rows."
    )

    threads: int | None = Field(
        default=None, ge=1,
        description="CPU threads of training (torch and BLAS); empty = DAGAN_THREADS, else "
        "min(cores - 1, 4). More threads than idle cores make epochs many times slower.",
    )

    def hyperparameters(self) -> dict[str, Any]:
        """Flat hyperparameters for ``make_synthesizer`` (``None`` fields left to the preset)."""
        values = self.model_dump(exclude=set(PIPELINE_FIELDS))
        return {k: v for k, v in values.items() if v is not None}

    def synthesizer_config(self) -> SynthesizerConfig:
        """The validated dagan_core config (raises dagan_core.ConfigError early)."""
        return SynthesizerConfig.from_flat(self.strategy, **self.hyperparameters())
