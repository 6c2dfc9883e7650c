"""The training strategies, registered by name.

A :class:`Strategy` says who takes part in a generator step, which attention switches its preset
turns off, how the parties' updates are combined, and whether each party trains its own GAN.
Everything in the library that depends on the strategy reads it from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dagan_core.errors import ConfigError

#: every party takes part in every generator step
ALL = "all"
#: one party, drawn per step, takes part
ONE = "one"

#: the coordinator's generator learns from every critic's gradient (gradient casting)
GRADIENT_CASTING = "gradient_casting"
#: each party trains a whole GAN; generator and critic weights are averaged (FedAvg)
FEDAVG = "fedavg"
#: each party trains a whole GAN; nothing is combined (samples are unioned)
NONE = "none"

_NO_ATTENTION: Mapping[str, Any] = MappingProxyType(
    {"local_attention": False, "global_attention": False})


@dataclass(frozen=True)
class Strategy:
    """One training strategy.

    Attributes:
        name: the name ``make_synthesizer`` takes.
        summary: one line on what it does.
        participation: ``"all"`` or ``"one"`` party per generator step.
        presets: hyperparameters the strategy sets before the user's own (attention switches).
        aggregation: ``"gradient_casting"``, ``"fedavg"`` or ``"none"``.
        gan_per_party: each party trains its own generator and critic at home.
        privacy_violating: the rows are pooled in one place (a reference, not a deployment).
    """

    name: str
    summary: str
    participation: str = ALL
    presets: Mapping[str, Any] = field(default_factory=lambda: _NO_ATTENTION)
    aggregation: str = GRADIENT_CASTING
    gan_per_party: bool = False
    privacy_violating: bool = False

    @property
    def pooled(self) -> bool:
        """One critic trains on every party's rows pooled together."""
        return self.privacy_violating

    @property
    def averages_weights(self) -> bool:
        """Generator and critic weights are averaged between the parties (FedAvg)."""
        return self.aggregation == FEDAVG

    @property
    def colocates_critics(self) -> bool:
        """Critics of parties simulated in one process may run as one stacked bank."""
        return self.participation == ALL


_REGISTRY: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    """Add a strategy under its name (a name is registered once)."""
    if strategy.name in _REGISTRY:
        raise ConfigError(f"strategy {strategy.name!r} is already registered")
    _REGISTRY[strategy.name] = strategy
    return strategy


def strategy_names() -> tuple[str, ...]:
    """Registered strategy names, in registration order."""
    return tuple(_REGISTRY)


def get_strategy(name: str) -> Strategy:
    """The strategy registered under ``name``.

    Raises:
        ConfigError: unknown name (the message lists the valid ones).
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown strategy {name!r}; valid strategies: "
                          f"{', '.join(_REGISTRY)}") from None


register(Strategy("dagan", "party critics, gradient casting, per-class cross-party attention",
                  presets=MappingProxyType({"class_alpha": True})))
register(Strategy("mdgan", "party critics and gradient casting, both attentions off"))
register(Strategy("swift", "one party per generator step", participation=ONE))
# FedSyn releases the FedAvg of the parties' generators; a party's moving average of its own
# weights would also follow its local steps between rounds, so fedsyn releases no average
register(Strategy("fedsyn", "FedAvg of per-party GANs", aggregation=FEDAVG, gan_per_party=True,
                  presets=MappingProxyType({**_NO_ATTENTION, "generator_ema": 0.0})))
register(Strategy("local", "one GAN per party, samples unioned", aggregation=NONE,
                  gan_per_party=True))
register(Strategy("centralized", "one critic on pooled rows (an upper reference)",
                  privacy_violating=True))
