"""Comparison of several parties' label mixes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from dagan_core.errors import InvalidDataError
from dagan_core.profiling.frames import frame, js_divergence, ordered_counts
from dagan_core.profiling.party import PartyProfile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrossPartyProfile:
    """How the parties of a federation differ (inter-party imbalance).

    Attributes:
        label: the shared label column.
        party_sizes: party -> rows.
        size_ratio: largest / smallest party size.
        pooled_class_counts: class -> rows over all parties, largest first.
        label_jsd: party -> Jensen-Shannon divergence (base 2, in [0, 1]) of its label mix to the
            pooled mix.
        missing_classes: party -> pooled classes the party has no row of (sorted).
        single_party_classes: class -> the only party that holds it.
    """

    label: str
    party_sizes: dict[str, int]
    size_ratio: float
    pooled_class_counts: dict[str, int]
    label_jsd: dict[str, float]
    missing_classes: dict[str, list[str]]
    single_party_classes: dict[str, str]

    def __post_init__(self) -> None:
        if not self.party_sizes:
            raise InvalidDataError("a cross-party profile needs at least one party")
        if set(self.label_jsd) != set(self.party_sizes):
            raise InvalidDataError("label_jsd and party_sizes name different parties")

    @property
    def pooled_class_shares(self) -> dict[str, float]:
        """Class -> share of the pooled labelled rows."""
        total = sum(self.pooled_class_counts.values())
        return {k: v / total for k, v in self.pooled_class_counts.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every field."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """Long tidy frame (party, kind, column, value, metric); pooled rows have party None."""
        lab = self.label
        rows: list[tuple[Any, ...]] = [(None, "size_ratio", None, None, self.size_ratio)]
        shares = self.pooled_class_shares
        for cls, count in self.pooled_class_counts.items():
            rows.append((None, "pooled_class_count", lab, cls, count))
            rows.append((None, "pooled_class_share", lab, cls, shares[cls]))
        for party, n in self.party_sizes.items():
            rows.append((party, "n_rows", None, None, n))
            rows.append((party, "label_jsd", lab, None, self.label_jsd[party]))
            rows.append((party, "n_missing_classes", lab, None, len(self.missing_classes[party])))
            rows.extend((party, "missing_class", lab, c, 1.0) for c in self.missing_classes[party])
        rows.extend((p, "single_party_class", lab, c, 1.0)
                    for c, p in self.single_party_classes.items())
        return frame(rows)


def _shared_label(profiles: Mapping[str, PartyProfile]) -> str:
    """The one label column of every profile."""
    if not profiles:
        raise InvalidDataError("profile_parties needs at least one party profile")
    labels = {p.label for p in profiles.values()}
    if len(labels) != 1:
        raise InvalidDataError(f"parties use different label columns: {sorted(labels)}")
    return labels.pop()


def _pooled_counts(profiles: Mapping[str, PartyProfile]) -> dict[str, int]:
    """Label class -> rows over all parties, largest first."""
    pooled: dict[str, int] = {}
    for prof in profiles.values():
        for cls, n in prof.class_counts.items():
            pooled[cls] = pooled.get(cls, 0) + n
    return ordered_counts(pooled)


def _single_party_classes(profiles: Mapping[str, PartyProfile], classes: list[str]
                          ) -> dict[str, str]:
    """Class -> the one party that holds it, for classes held by one party only."""
    holders = {c: [str(n) for n, p in profiles.items() if c in p.class_counts] for c in classes}
    return {c: h[0] for c, h in holders.items() if len(h) == 1}


def profile_parties(profiles: Mapping[str, PartyProfile]) -> CrossPartyProfile:
    """Compare the label mixes of several parties.

    Args:
        profiles: party name -> its :class:`PartyProfile` (the mapping's keys name the parties).

    Returns:
        The :class:`CrossPartyProfile`.

    Raises:
        InvalidDataError: no profile is given, or the profiles use different label columns.
    """
    label = _shared_label(profiles)
    pooled = _pooled_counts(profiles)
    classes = list(pooled)
    pooled_vec = [pooled[c] for c in classes]

    sizes = {str(name): prof.n_rows for name, prof in profiles.items()}
    jsd = {
        str(name): js_divergence([prof.class_counts.get(c, 0) for c in classes], pooled_vec)
        for name, prof in profiles.items()
    }
    missing = {
        str(name): sorted(c for c in classes if c not in prof.class_counts)
        for name, prof in profiles.items()
    }
    ratio = max(sizes.values()) / min(sizes.values())
    logger.debug("profiled %d parties: size ratio %.2f", len(sizes), ratio)
    return CrossPartyProfile(
        label=label,
        party_sizes=sizes,
        size_ratio=float(ratio),
        pooled_class_counts=pooled,
        label_jsd=jsd,
        missing_classes=missing,
        single_party_classes=_single_party_classes(profiles, classes),
    )
