"""Certificates and in-thread party servers on 127.0.0.1 for the remote-party tests."""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_VERBOSITY", "NONE")
# party processes are spawned with this environment: one BLAS/OpenMP thread each, as the
# in-process parties of this test process have, so that both compute the same bits
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

from dagan_core.federation.remote.tls import make_certificates  # noqa: E402

PARTIES = ["party_a", "party_b", "party_c"]


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """An authority, a coordinator and the three test parties."""
    return make_certificates(tmp_path_factory.mktemp("certs"), PARTIES)


@pytest.fixture(scope="session")
def other_certs(tmp_path_factory):
    """The same names, issued by another authority."""
    return make_certificates(tmp_path_factory.mktemp("other_certs"), PARTIES)
