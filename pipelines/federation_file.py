"""The coordinator's federation file: which parties take part, where they answer, and the
coordinator's certificate.

A YAML file, paths relative to the file::

    coordinator:
      name: coordinator                  # the common name of the coordinator's certificate
      ca: certs/ca.pem                   # the authority that signed every party's certificate
      cert: certs/coordinator.pem
      key: certs/coordinator.key
    parties:
      hospital_a: {endpoint: "10.0.0.11:7401"}
      hospital_b: {endpoint: "10.0.0.12:7401"}
    timeout_s: 30          # deadline of each call
    retry_for_s: 120       # how long an unreachable party is retried before the run fails
    on_party_lost: fail    # or "continue": train on without a party that never comes back
                           # (logged, recorded in the history and the saved model, its rows
                           # left out of the release mix)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


def contract_fingerprint(path: str | Path) -> str:
    """sha256 of a contract file's bytes: the parties and the coordinator must present the same."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class FederationFileError(ValueError):
    """The federation file is missing, unreadable or incomplete (the message names the entry)."""


@dataclass(frozen=True)
class Federation:
    """What the federation file says."""

    path: Path
    coordinator: str
    ca: Path
    cert: Path
    key: Path
    endpoints: dict[str, str]
    timeout_s: float = 30.0
    retry_for_s: float = 120.0
    on_party_lost: str = "fail"

    @property
    def parties(self) -> list[str]:
        """Party names, in the file's order."""
        return list(self.endpoints)

    def tls(self) -> Any:
        """The coordinator's TLS files (``dagan_core.federation.remote.tls.TLSFiles``)."""
        from dagan_core.federation.remote.tls import TLSFiles

        return TLSFiles(self.ca, self.cert, self.key)

    def remote(self, contract_fingerprint: str) -> Any:
        """The parties as a ``RemoteFederation`` to fit on, with this file's call deadline,
        retry time and party-lost policy."""
        from dagan_core.federation.remote.federation import RemoteFederation

        return RemoteFederation(self.endpoints, self.tls(), contract_fingerprint,
                                timeout=self.timeout_s, retry_for=self.retry_for_s,
                                on_party_lost=self.on_party_lost)


def _policy(data: dict, path: Path) -> str:
    value = str(data.get("on_party_lost", "fail"))
    if value not in ("fail", "continue"):
        raise FederationFileError(f"{path}: on_party_lost must be 'fail' or 'continue', "
                                  f"got {value!r}")
    return value


def _entry(data: dict, key: str, path: Path) -> Any:
    if key not in data or data[key] in (None, ""):
        raise FederationFileError(f"{path}: '{key}' is required")
    return data[key]


def _file(base: Path, value: Any, entry: str, path: Path) -> Path:
    resolved = (base / str(value)).resolve()
    if not resolved.is_file():
        raise FederationFileError(f"{path}: {entry} {resolved} does not exist")
    return resolved


def _endpoints(parties: Any, path: Path) -> dict[str, str]:
    if not isinstance(parties, dict) or not parties:
        raise FederationFileError(f"{path}: 'parties' must map each party name to its endpoint")
    endpoints = {}
    for name, spec in parties.items():
        endpoint = (spec or {}).get("endpoint") if isinstance(spec, dict) else spec
        if not isinstance(endpoint, str) or ":" not in endpoint:
            raise FederationFileError(f"{path}: party {name!r} needs an endpoint 'host:port', "
                                      f"got {endpoint!r}")
        endpoints[str(name)] = endpoint
    return endpoints


def read_federation(path: str | Path) -> Federation:
    """Read and check a federation file.

    Raises:
        FederationFileError: naming the file and the entry that is missing or wrong.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FederationFileError(f"federation file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as err:
        raise FederationFileError(f"federation file {path} cannot be read: {err}") from err
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        problem = getattr(err, "problem", None) or str(err)
        raise FederationFileError(f"federation file {path} is not valid YAML{line}: "
                                  f"{problem}") from err
    if not isinstance(data, dict):
        raise FederationFileError(f"{path}: expected a mapping at the top level")
    coordinator = _entry(data, "coordinator", path)
    if not isinstance(coordinator, dict):
        raise FederationFileError(f"{path}: 'coordinator' must hold name, ca, cert and key")
    base = path.parent
    return Federation(
        path=path,
        coordinator=str(coordinator.get("name") or "coordinator"),
        ca=_file(base, _entry(coordinator, "ca", path), "coordinator.ca", path),
        cert=_file(base, _entry(coordinator, "cert", path), "coordinator.cert", path),
        key=_file(base, _entry(coordinator, "key", path), "coordinator.key", path),
        endpoints=_endpoints(_entry(data, "parties", path), path),
        timeout_s=float(data.get("timeout_s", 30.0)),
        retry_for_s=float(data.get("retry_for_s", 120.0)),
        on_party_lost=_policy(data, path),
    )


def write_federation(path: str | Path, endpoints: dict[str, str], ca: Path, cert: Path,
                     key: Path, coordinator: str = "coordinator") -> Path:
    """Write a federation file (used by the certificate command and the federated demo)."""
    path = Path(path)
    base = path.parent.resolve()

    def rel(p: Path) -> str:
        p = Path(p).resolve()
        return str(p.relative_to(base)) if p.is_relative_to(base) else str(p)

    data = {
        "coordinator": {"name": coordinator, "ca": rel(ca), "cert": rel(cert), "key": rel(key)},
        "parties": {name: {"endpoint": ep} for name, ep in endpoints.items()},
        "timeout_s": 30,
        "retry_for_s": 120,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
