"""The coordinator's handle on remote parties: the federation file, the contract fingerprint,
status probes and the federation ``fit`` trains on. grpc and torch are imported on use only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from pipelines import settings
from pipelines.federation_file import (
    Federation,
    contract_fingerprint,
    read_federation,
)

#: the deadline of a connection check's calls, in seconds (the federation file's ``timeout_s`` if
#: shorter); reports and summaries get the federation file's ``timeout_s``
PROBE_TIMEOUT_S = 10.0


class RemoteParties(dg.ConfigurableResource):
    """Parties served on their own hosts, as the federation file lists them."""

    federation_file: str

    def federation(self) -> Federation:
        """The federation file, read and checked (FederationFileError names the entry)."""
        return read_federation(self.federation_file)

    def fingerprint(self) -> str:
        """sha256 of this coordinator's contract file (``DAGAN_PARTY_CONTRACT``)."""
        return contract_fingerprint(settings.party_contract_path())

    def endpoint(self, party: str) -> str:
        """Where ``party`` answers.

        Raises:
            dg.Failure: the federation file does not list ``party``.
        """
        federation = self.federation()
        if party not in federation.endpoints:
            raise dg.Failure(f"party {party!r} is not in the federation file "
                             f"{federation.path} (parties: {', '.join(federation.parties)})")
        return federation.endpoints[party]

    def probe(self, party: str, max_modes: int = 0, seed: int = 0, *,
              quick: bool = False) -> Any:
        """``dagan_core``'s ``PartyProbe`` of ``party`` (never raises for a silent party).

        ``max_modes`` > 0 asks for the summary too; ``quick``: the connection check's deadline.
        """
        from dagan_core.federation.remote.probe import probe_party

        federation = self.federation()
        timeout = min(PROBE_TIMEOUT_S, federation.timeout_s) if quick else federation.timeout_s
        return probe_party(party, self.endpoint(party), federation.tls(), self.fingerprint(),
                           max_modes=max_modes, seed=seed, timeout=timeout)

    def remote_federation(self, parties: Sequence[str]) -> Any:
        """The ``RemoteFederation`` of ``parties`` (in that order) that ``fit`` trains on."""
        from dagan_core.federation.remote.federation import RemoteFederation

        federation = self.federation()
        return RemoteFederation({p: self.endpoint(p) for p in parties}, federation.tls(),
                                self.fingerprint(), timeout=federation.timeout_s,
                                retry_for=federation.retry_for_s,
                                on_party_lost=federation.on_party_lost)
