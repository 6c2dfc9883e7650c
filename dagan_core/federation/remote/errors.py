"""Errors of remote parties; each names the party and, where known, the step."""

from __future__ import annotations

from dagan_core.errors import DAGANError


class RemotePartyError(DAGANError):
    """Base class: something went wrong talking to a remote party.

    Attributes:
        party: the party concerned.
        step: what was being exchanged (message type and training step), or None.
        reason: the reason, without the party and step.
    """

    def __init__(self, reason: str, *, party: str, step: str | None = None):
        """Compose the message from the reason, the party and the step."""
        self.party = party
        self.step = step
        self.reason = reason
        where = f"party {party!r}" + (f" at {step}" if step else "")
        super().__init__(f"{where}: {reason}")


class PartyUnavailableError(RemotePartyError):
    """The party did not answer within the retry budget."""


class PartyRefusedError(RemotePartyError):
    """The connection was refused: a certificate or identity check failed, on either side."""


class ProtocolError(RemotePartyError):
    """A message broke the wire protocol: unknown type, wrong shape or dtype, non-finite values,
    wrong reply type, an oversized message, or a request the party refused."""


class CodecError(DAGANError, ValueError):
    """A frame could not be encoded or decoded (the caller adds the party and step)."""


class SetupRefused(DAGANError):
    """Raised at a party that refuses the coordinator's set-up (contract, schema, run state).

    The party's server answers it as a refusal; the coordinator raises
    :class:`PartyRefusedError` naming the party, with this message.
    """
