"""Parties on other processes or hosts: the federation's messages over gRPC with mutual TLS.

- :mod:`.codec`: the typed messages of :mod:`dagan_core.federation.messages` as versioned binary
  frames (arrays as raw bytes with dtype and shape; never pickle), checked on decode;
- :mod:`.tls`: a certificate authority and per-party certificates for tests and demos;
- :mod:`.server`: :class:`~.server.PartyServer`, a party answering over mutual TLS;
- :mod:`.client`: :class:`~.client.RemoteTransport`, the coordinator's transport to such parties;
- :mod:`.control`: the set-up messages (handshake, set-up, resume, epoch end);
- :mod:`.party_host`: :class:`~.party_host.PartyHost` and :func:`~.party_host.serve_party`, a
  party serving its own table, with its epoch states in :mod:`.party_state`;
- :mod:`.federation`: :class:`~.federation.RemoteFederation`, what ``fit`` accepts instead of
  tables, and :mod:`.trainer`, the coordinator's trainer over the remote transport.

Importing :mod:`dagan_core` does not import this package (nor grpc or cryptography).
"""
