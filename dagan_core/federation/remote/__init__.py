"""Parties on other processes or hosts: the federation's messages over gRPC with mutual TLS.

- :mod:`.codec`: the typed messages of :mod:`dagan_core.federation.messages` as versioned binary
  frames (arrays as raw bytes with dtype and shape; never pickle), checked on decode;
- :mod:`.tls`: a certificate authority and per-party certificates for tests and demos;
- :mod:`.server`: :class:`~.server.PartyServer`, a party answering over mutual TLS;
- :mod:`.client`: :class:`~.client.RemoteTransport`, the coordinator's transport to such parties;
- :mod:`.handshake`: the set-up messages (contract and schema check, summaries, encoder);
- :mod:`.party_host`: a party on its own host (:func:`~.party_host.serve_party`).

The coordinator's side is :mod:`dagan_core.synthesizers.remote_fit`, used by
``Synthesizer.fit`` when it is given ``RemoteParties`` instead of tables.

Importing :mod:`dagan_core` does not import this package (nor grpc or cryptography).
"""
