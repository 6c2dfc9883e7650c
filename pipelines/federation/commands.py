"""``dagan certs`` and ``dagan party serve``: the commands of a federation's set-up and of a
party's host."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _refuse(command: str, message: str) -> int:
    """One line naming the problem, exit status 2 (as every ``dagan`` command)."""
    sys.stderr.write(f"dagan {command}: {message}\n")
    return 2


def _certs_refusal(args: argparse.Namespace) -> str | None:
    """What is wrong with the options of ``certs`` (None: nothing)."""
    from dagan_core.federation.remote.tls import check_name

    try:
        names = [check_name(n) for n in [*args.parties, args.coordinator]]
    except ValueError as err:
        return str(err)
    if len(set(names)) < len(names):
        return "party and coordinator names must all differ"
    if args.days < 1:
        return f"--days must be at least 1, got {args.days}"
    return _endpoint_refusal(args)


def _endpoint_refusal(args: argparse.Namespace) -> str | None:
    """What is wrong with the ``--endpoint`` items of ``certs`` (None: nothing)."""
    for item in args.endpoint or []:
        party, sep, address = item.partition("=")
        if not sep or ":" not in address:
            return f"--endpoint {item!r}: expected PARTY=HOST:PORT"
        if party not in args.parties:
            return f"--endpoint {item!r}: {party!r} is not one of --parties"
    endpoints = dict(item.split("=", 1) for item in args.endpoint or [])
    missing = [p for p in args.parties if p not in endpoints]
    if args.federation_file and missing:
        return "--federation-file needs --endpoint PARTY=HOST:PORT for " + ", ".join(missing)
    return None


def _certs(args: argparse.Namespace) -> int:
    from dagan_core.federation.remote.tls import make_certificates
    from pipelines.federation_file import write_federation

    refused = _certs_refusal(args)
    if refused:
        return _refuse("certs", refused)
    out = Path(args.out)
    endpoints = dict(item.split("=", 1) for item in args.endpoint or [])
    try:
        out.mkdir(parents=True, exist_ok=True)
        made = make_certificates(out, parties=list(args.parties), coordinator=args.coordinator,
                                 days=args.days)
    except OSError as err:
        return _refuse("certs", f"--out {out}: cannot write the certificates there "
                       f"({err.strerror or err})")
    lines = {"ca": str(made.ca_cert), "ca_key": str(made.ca_key),
             "coordinator": {"cert": str(made.coordinator.cert), "key": str(made.coordinator.key)},
             "parties": {p: {"cert": str(f.cert), "key": str(f.key)}
                         for p, f in made.parties.items()}}
    if args.federation_file:
        try:
            write_federation(args.federation_file, {p: endpoints[p] for p in args.parties},
                             made.ca_cert, made.coordinator.cert, made.coordinator.key,
                             args.coordinator)
        except OSError as err:
            return _refuse("certs", f"--federation-file {args.federation_file}: cannot write it "
                           f"({err.strerror or err})")
        lines["federation_file"] = str(args.federation_file)
    sys.stdout.write(json.dumps(lines, indent=2) + "\n")
    sys.stderr.write(f"dagan certs: keep {made.ca_key} offline; give each party its own "
                     "certificate and key and the CA certificate, nothing else\n")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import os

    from pipelines import settings
    from pipelines.federation.party_ingest import PartyIngestError, ingest_party
    from pipelines.resources import PartyStore

    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if ":" not in args.listen:
        return _refuse("party serve", f"--listen {args.listen!r}: expected HOST:PORT")
    refused = _tls_refusal(args) or _missing_file(args)
    if refused:
        return _refuse("party serve", refused)
    try:
        report = ingest_party(args.party, args.landing, args.store)
    except PartyIngestError as err:
        return _refuse("party serve", str(err))
    sys.stderr.write(f"dagan party serve: {report.contract_description}; "
                     f"{report.rows_quarantined} row(s) quarantined, kept in {args.store}\n")
    if report.rows_validated < 2:
        return _refuse("party serve", f"party {args.party!r} has {report.rows_validated} valid "
                       "row(s); a critic needs at least 2")
    from dagan_core.federation.remote.party_host import serve_party
    from dagan_core.federation.remote.tls import TLSFiles
    from pipelines.contracts import model_columns
    from pipelines.federation_file import contract_fingerprint

    table = PartyStore(root=str(args.store)).read_validated(args.party)
    columns = model_columns()
    tls = None if args.insecure_plaintext else TLSFiles(Path(args.ca), Path(args.cert),
                                                        Path(args.key))

    def announce(address: str) -> None:
        sys.stdout.write(json.dumps({"party": args.party, "address": address,
                                     "rows": report.rows_validated}) + "\n")
        sys.stdout.flush()

    serve_party(table, args.party, columns.label, list(columns.discrete_columns), tls,
                args.listen, args.store / args.party / "training_state",
                contract_fingerprint(settings.party_contract_path()),
                coordinator=args.coordinator, device=args.device, on_ready=announce,
                report=report.shared(),
                **({"insecure_plaintext": True,
                    "allow_remote_plaintext": args.allow_remote_plaintext}
                   if args.insecure_plaintext else {}))
    return 0


def _missing_file(args: argparse.Namespace) -> str | None:
    """The landing folder, then the TLS files, that are not there (None: all are)."""
    folder = args.landing / args.party
    if not folder.is_dir():
        return f"party {args.party!r}: no landing folder {folder}"
    absent = [f"--{k} {getattr(args, k)}" for k in ("ca", "cert", "key")
              if getattr(args, k) is not None and not Path(getattr(args, k)).is_file()]
    return f"{absent[0]}: no such file" if absent else None


def _tls_refusal(args: argparse.Namespace) -> str | None:
    from dagan_core.federation.remote.plaintext import is_loopback

    if not args.insecure_plaintext:
        missing = [f"--{k}" for k in ("ca", "cert", "key") if getattr(args, k) is None]
        return f"{', '.join(missing)} required (mutual TLS)" if missing else None
    if not is_loopback(args.listen) and not args.allow_remote_plaintext:
        return (f"--insecure-plaintext refused on {args.listen}, which is not a loopback "
                "address (add --allow-remote-plaintext to force it)")
    return None


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``certs`` and ``party serve``."""
    p_certs = commands.add_parser(
        "certs", help="create a CA, the coordinator's and each party's certificate (tests and "
        "demos; production uses the organisation's own PKI, see docs/deployment.md)")
    p_certs.add_argument("--out", required=True, help="folder for the PEM files")
    p_certs.add_argument("--parties", nargs="+", required=True, metavar="PARTY")
    p_certs.add_argument("--coordinator", default="coordinator",
                         help="common name of the coordinator's certificate")
    p_certs.add_argument("--days", type=int, default=30, help="validity (default 30 days)")
    p_certs.add_argument("--federation-file", type=Path, default=None,
                         help="also write the coordinator's federation file here")
    p_certs.add_argument("--endpoint", action="append", metavar="PARTY=HOST:PORT",
                         help="where a party answers (repeat; for --federation-file)")
    p_certs.set_defaults(handler=_certs)

    p_party = commands.add_parser("party", help="a party's own host: ingest and serve")
    party_commands = p_party.add_subparsers(dest="party_command", required=True,
                                            metavar="COMMAND")
    p_serve = party_commands.add_parser(
        "serve", help="validate this party's landing files with the shared contract, then "
        "serve its critic to the coordinator over mutual TLS (blocks until stopped)")
    p_serve.add_argument("--party", required=True, help="this party's name (as in its cert)")
    p_serve.add_argument("--landing", required=True, type=Path,
                         help="landing area holding the folder <party>/ of CSV/Parquet files")
    p_serve.add_argument("--store", required=True, type=Path,
                         help="this party's private store (validated and quarantined rows)")
    p_serve.add_argument("--listen", default="127.0.0.1:7401",
                         help="HOST:PORT to answer on (default 127.0.0.1:7401; port 0: any)")
    p_serve.add_argument("--ca", help="the authority's certificate (PEM)")
    p_serve.add_argument("--cert", help="this party's certificate (PEM)")
    p_serve.add_argument("--key", help="this party's private key (PEM)")
    p_serve.add_argument("--insecure-plaintext", action="store_true",
                         help="serve without TLS (no encryption, no authentication; logged "
                         "as INSECURE); loopback addresses only")
    p_serve.add_argument("--allow-remote-plaintext", action="store_true",
                         help="with --insecure-plaintext: allow a non-loopback --listen")
    p_serve.add_argument("--coordinator", default="coordinator",
                         help="common name the coordinator's certificate must carry")
    p_serve.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                         help="torch device of the critic (default cpu)")
    p_serve.set_defaults(handler=_serve, command="party serve")
