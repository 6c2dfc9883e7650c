"""What a fit produces: the generator(s), the encoder, the parties' summaries and the records.

A :class:`FittedModel` holds no party row. Sampling (:mod:`dagan_core.synthesizers.sampling`) and
saving (:mod:`dagan_core.synthesizers.checkpoint`) read it through the attributes and methods below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.summary import PartySummary


@dataclass
class FittedModel:
    """A fitted synthesizer's state.

    Attributes:
        config: the configuration it was fitted with (device as it runs now).
        encoder: the global encoder merged from the parties' summaries.
        summaries: party name -> its summary (row count, category counts, mixtures).
        generators: the generator(s); one shared, or one per party.
        code_generator: for each party (in ``summaries`` order) the index of its generator.
        device: where the generators live.
        history: per-epoch statistics (``EpochStats.to_dict()``).
        privacy: privacy accounting of the fit (None when no mechanism was on).
        stopping: why and when training stopped and which epoch's generator this is
            (:meth:`dagan_core.synthesizers.stopping.Stopping.summary`; None for models saved
            before it was recorded).
        cells: the end-of-fit probe of the (party, label class) cells the generator makes
            (:func:`dagan_core.synthesizers.cells.probe_cells`); None before it ran.
    """

    config: SynthesizerConfig
    encoder: TableEncoder
    summaries: dict[str, PartySummary]
    generators: list[torch.nn.Module]
    code_generator: list[int]
    device: torch.device
    history: list[dict[str, Any]] = field(default_factory=list)
    privacy: dict[str, Any] | None = None
    stopping: dict[str, Any] | None = None
    cells: dict[str, Any] | None = None

    @classmethod
    def from_generators(cls, config: SynthesizerConfig, encoder: TableEncoder,
                        summaries: dict[str, PartySummary], generators: list[torch.nn.Module],
                        device: torch.device, **records: Any) -> FittedModel:
        """A model whose parties share the generator when there is one, else own one each."""
        codes = [0] * len(summaries) if len(generators) == 1 else list(range(len(summaries)))
        return cls(config, encoder, summaries, list(generators), codes, device, **records)

    @property
    def parties(self) -> list[str]:
        """Party names, in fitting order."""
        return list(self.summaries)

    @property
    def lost_parties(self) -> dict[str, dict[str, Any]]:
        """Parties left out of the training when they stopped answering (remote parties with
        ``on_party_lost="continue"``): name -> epoch, step and reason, from the history. Their
        rows are not in the release mix, and sampling them alone is refused."""
        return dict(self.history[-1].get("lost_parties") or {}) if self.history else {}

    @property
    def label(self) -> str:
        """The label column."""
        return self.encoder.schema.label

    @property
    def party_sizes(self) -> dict[str, int]:
        """Party name -> its number of training rows."""
        return {p: s.n_rows for p, s in self.summaries.items()}

    def party_code(self, party: str) -> int:
        """The code that stands for ``party`` in the generator's input."""
        return self.parties.index(party)

    def generator_for(self, party: str) -> torch.nn.Module:
        """The generator that makes this party's rows."""
        return self.generators[self.code_generator[self.party_code(party)]]

    def generator_states(self) -> list[dict[str, torch.Tensor]]:
        """Each generator's weights, detached, on the CPU."""
        return [{k: v.detach().cpu() for k, v in g.state_dict().items()}
                for g in self.generators]
