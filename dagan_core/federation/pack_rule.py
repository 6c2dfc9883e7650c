"""The critics' pack size when ``pac`` is left automatic (``pac=None``, the default).

A critic that scores packs of ten rows can hardly notice one generated row whose features
belong to another class than its label; when a label class is rare, such rows are what the
generator gets wrong (``results/pack_size/``). The automatic rule therefore looks at the pooled
label counts the parties' summaries already share and picks:

- ``RARE_PAC`` (1: single-row critics) when the rarest label class holds less than
  ``RARE_CLASS_SHARE`` of the pooled rows;
- ``PACKED_PAC`` (10, PacGAN's and CTGAN's choice) otherwise.

Measured on four tables (rarest class share: Credit 0.33 %, Covertype 0.47 %, Bank 11.7 %,
Adult 24 %): single-row critics lift the first two and cost the other two. The threshold sits
between them; a table with its rarest class between 0.5 % and 12 % has not been measured.
The rule runs on the coordinator's side, after the summaries and before any party builds its
critic; the resolved value is what the saved model's configuration records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from dagan_core.config import SynthesizerConfig
from dagan_core.data.summary import PartySummary

RARE_CLASS_SHARE = 0.02
RARE_PAC = 1
PACKED_PAC = 10


def rarest_class_share(summaries: Iterable[PartySummary], label: str) -> float:
    """Share of the pooled rows held by the rarest label class present at any party."""
    pooled: Counter = Counter()
    for summary in summaries:
        pooled.update(summary.counts(label))
    counts = [n for n in pooled.values() if n > 0]
    return min(counts) / sum(counts) if counts else 1.0


def automatic_pac(summaries: Iterable[PartySummary], label: str) -> int:
    """The pack size the automatic rule picks for these parties (see module docstring)."""
    return RARE_PAC if rarest_class_share(summaries, label) < RARE_CLASS_SHARE else PACKED_PAC


def resolve_pac(config: SynthesizerConfig, summaries: Iterable[PartySummary],
                label: str) -> SynthesizerConfig:
    """``config`` with an automatic ``pac`` replaced by the rule's choice (else unchanged)."""
    if config.model.pac is not None:
        return config
    return config.replace(pac=automatic_pac(summaries, label))


def same_but_resolved(asked: SynthesizerConfig, given: SynthesizerConfig) -> bool:
    """Whether ``given`` is ``asked`` with, at most, its automatic ``pac`` resolved (what a
    party accepts at set-up after agreeing ``asked`` at the handshake)."""
    if asked.model.pac is None and given.model.pac is not None:
        return asked.replace(pac=given.model.pac) == given
    return asked == given
