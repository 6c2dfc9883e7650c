"""Certificates for mutual TLS between the coordinator and the parties.

:func:`make_certificates` creates a certificate authority, a coordinator certificate and one
certificate per party, for tests and demos. Each party's certificate names the party (subject
common name and DNS subject alternative name); the coordinator checks that name on every
connection, and each party checks that its caller's certificate names the coordinator and was
signed by the authority it trusts.

In production, use the organisation's own PKI instead: issue each party a server certificate
whose subject alternative names include the party's name (as DNS name) and the coordinator a
client certificate whose common name is the coordinator's name, from an authority both sides
trust; point :class:`TLSFiles` at those files.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

COORDINATOR = "coordinator"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of one side of a connection: the trusted authority, own certificate and key."""

    ca: Path
    cert: Path
    key: Path

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(authority certificate, own certificate chain, own private key) as PEM bytes."""
        return self.ca.read_bytes(), self.cert.read_bytes(), self.key.read_bytes()


@dataclass(frozen=True)
class Certificates:
    """What :func:`make_certificates` wrote."""

    ca_cert: Path
    ca_key: Path
    coordinator: TLSFiles
    parties: dict[str, TLSFiles]


def check_name(name: str) -> str:
    """Refuse names that cannot be a certificate's DNS name (or that would pose as coordinator)."""
    if not _NAME.match(name):
        raise ValueError(f"name {name!r} cannot be put in a certificate: use letters, digits, "
                         "'.', '_' or '-' (at most 63 characters)")
    return name


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dagan federation"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, public_key, days: int):
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days)))


def _authority(days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    name = _name("dagan federation CA")
    cert = (_builder(name, name, key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def _leaf(name: str, usage, ca_cert: x509.Certificate, ca_key, days: int):
    key = _key()
    cert = (_builder(_name(name), ca_cert.subject, key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def _write_key(path: Path, key) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _write(out: Path, stem: str, cert: x509.Certificate, key) -> tuple[Path, Path]:
    cert_path, key_path = out / f"{stem}.pem", out / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return cert_path, key_path


def issue_certificate(ca_cert: Path, ca_key: Path, name: str, out_dir: str | Path, *,
                      role: str, days: int = 30) -> TLSFiles:
    """Issue one more certificate from an authority written by :func:`make_certificates`.

    ``role``: "party" (a server certificate naming the party) or "coordinator" (a client
    certificate). Writes ``<name>.pem`` and ``<name>.key`` under ``out_dir``.
    """
    usage = {"party": ExtendedKeyUsageOID.SERVER_AUTH,
             "coordinator": ExtendedKeyUsageOID.CLIENT_AUTH}[role]
    ca = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
    key = serialization.load_pem_private_key(Path(ca_key).read_bytes(), password=None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = _write(out, name, *_leaf(check_name(name), usage, ca, key, days))
    return TLSFiles(Path(ca_cert), cert_path, key_path)


def make_certificates(out_dir: str | Path, parties: list[str], *,
                      coordinator: str = COORDINATOR, days: int = 30) -> Certificates:
    """Create an authority, a coordinator certificate and one certificate per party.

    Writes ``ca.pem``/``ca.key``, ``<coordinator>.pem``/``.key`` and
    ``parties/<party>.pem``/``.key`` under ``out_dir`` (keys readable by the owner only).
    Party certificates are for servers, the coordinator's for clients.
    """
    names = [check_name(str(p)) for p in parties]
    check_name(coordinator)
    if coordinator in names or len(set(names)) != len(names):
        raise ValueError("party names must be distinct and differ from the coordinator's name")
    out = Path(out_dir)
    (out / "parties").mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _authority(days)
    ca_path, ca_key_path = _write(out, "ca", ca_cert, ca_key)
    coord = _write(out, coordinator,
                   *_leaf(coordinator, ExtendedKeyUsageOID.CLIENT_AUTH, ca_cert, ca_key, days))
    party_files = {}
    for name in names:
        cert_path, key_path = _write(out / "parties", name, *_leaf(
            name, ExtendedKeyUsageOID.SERVER_AUTH, ca_cert, ca_key, days))
        party_files[name] = TLSFiles(ca_path, cert_path, key_path)
    return Certificates(ca_path, ca_key_path, TLSFiles(ca_path, *coord), party_files)
