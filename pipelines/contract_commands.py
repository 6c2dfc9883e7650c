"""``dagan contract init`` and ``dagan contract check``: a contract for one's own table.

    dagan contract init --sample DIR_OR_FILES --label COL --out DIR [--name NAME]
    dagan contract init --columns age:int,job:str,y:str --label y --out DIR
    dagan contract check --contract SUITE_OR_DATASET --landing DIR --party NAME

``init`` drafts the GX suite, its people-readable YAML and a dataset file from a sample of files
and prints what it inferred and what a person must decide. ``check`` runs the ingest's own
validation (same reader, same rules, chunk by chunk) on one party's files in a temporary store,
prints one line and exits with status 2 when the files would not be ingested cleanly.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Printed by ``init``: what a draft made from one party's sample tells whoever reads it.
DISCLOSURE = (
    "NOTE: this draft reveals facts about the rows it was made from: the exact minimum and "
    "maximum of every number column and the full list of values of every category column "
    "(rare ones included). Made from one party's sample, it discloses that party's extremes and "
    "categories to every party that receives the contract: widen the ranges and merge the "
    "category lists with the other parties before sharing it."
)


class ContractCommandError(Exception):
    """A problem with the command's input, worded for the user."""


def _sample_files(items: list[str]) -> list[Path]:
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".parquet"))
        elif path.is_file():
            files.append(path)
        else:
            raise ContractCommandError(f"--sample {item}: no such file or folder")
    if not files:
        raise ContractCommandError(f"--sample {' '.join(items)}: no CSV or Parquet file found")
    return files


def _read_sample(files: list[Path], max_rows: int | None) -> Any:
    import pandas as pd

    frames = []
    for path in files:
        frame = (pd.read_parquet(path) if path.suffix.lower() == ".parquet"
                 else pd.read_csv(path, nrows=max_rows))
        frames.append(frame)
        if len(frames) > 1 and list(frame.columns) != list(frames[0].columns):
            raise ContractCommandError(
                f"{path}: columns {list(frame.columns)} differ from {files[0]}'s "
                f"{list(frames[0].columns)}"
            )
    sample = pd.concat(frames, ignore_index=True)
    return sample.head(max_rows) if max_rows else sample


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve())


def _report(draft: Any, written: dict[str, Path], *, from_sample: bool,
            has_test_set: bool) -> None:
    """What ``init`` inferred, what a person must decide, and where the draft is."""
    echo = sys.stdout.write
    echo(f"drafted contract {draft.name!r} from {draft.rows} rows: {len(draft.columns)} columns, "
         f"label {draft.label!r}\n")
    for c in draft.columns:
        rule = (f"range [{c.range[0]}, {c.range[1]}]" if c.range
                else f"{len(c.allowed)} allowed values" if c.allowed is not None else "no rule")
        echo(f"  {c.name:<24} {c.type:<8} {'nullable' if c.nullable else 'not null':<9} {rule}\n")
    echo("decide before use:\n" + "".join(f"  - {d}\n" for d in draft.decisions))
    if not has_test_set:
        echo("  - the dataset names no test_set: add real rows held out from every party\n")
    echo("  - describe every column and its PII class in the YAML\n")
    if from_sample:
        echo(DISCLOSURE + "\n")
    for what, path in written.items():
        echo(f"wrote {what}: {path}\n")
    echo(f"select it with: DAGAN_DATASET={written['dataset']}\n")


def _init(args: argparse.Namespace) -> int:
    from pipelines.contracts.draft import draft_contract, draft_from_columns, write_draft

    if args.max_categories < 0:
        raise ContractCommandError(f"--max-categories must be 0 or more, got "
                                   f"{args.max_categories}")
    if args.max_rows is not None and args.max_rows < 1:
        raise ContractCommandError(f"--max-rows must be at least 1, got {args.max_rows}")
    out = Path(args.out)
    name = args.name or out.resolve().name.replace("-", "_").lower()
    if (out / "dataset.yaml").exists() and not args.force:
        raise ContractCommandError(f"{out / 'dataset.yaml'} exists; use --force to overwrite")
    try:
        if args.columns:
            draft = draft_from_columns(args.columns, args.label, name)
        else:
            files = _sample_files(args.sample)
            draft = draft_contract(_read_sample(files, args.max_rows), args.label, name,
                                   args.max_categories)
    except ValueError as err:
        raise ContractCommandError(str(err)) from err
    landing = Path(args.landing) if args.landing else out / "landing"
    test_set = _relative(Path(args.test_set), out) if args.test_set else None
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = write_draft(draft, out, _relative(landing, out), test_set)
    except OSError as err:
        raise ContractCommandError(f"--out {out}: cannot write the draft there "
                                   f"({err.strerror or err})") from err
    _report(draft, written, from_sample=not args.columns, has_test_set=bool(test_set))
    return 0


def _contract_path(selection: str) -> Path:
    """A suite file, or the contract of a dataset file/folder/name."""
    path = Path(selection)
    if path.suffix.lower() == ".json" and path.is_file():
        return path
    from pipelines.datasets import DatasetError, load_dataset

    try:
        return load_dataset(selection).contract
    except DatasetError as err:
        raise ContractCommandError(f"--contract {selection}: {err}") from err


def check_party(contract: Path, landing: Path, party: str) -> tuple[bool, str]:
    """Validate ``landing/party``'s files as ingest does; ``(passed, one-line summary)``."""
    import pyarrow as pa

    from dagan_core.errors import InvalidDataError
    from pipelines.defs.ingest.split import ContractBreachError, split_party_table
    from pipelines.resources.landing import SOURCE_FILES, LandingArea
    from pipelines.resources.party_store import RAW, PartyStore

    if not (landing / party).is_dir():
        raise ContractCommandError(f"party {party!r}: no folder {landing / party}")
    with tempfile.TemporaryDirectory(prefix="dagan-contract-check-") as tmp:
        store = PartyStore(root=tmp)
        try:
            stream = LandingArea(root=str(landing)).stream_party(party)  # as raw_party_table
            text = {name: pa.string() for name in stream.columns if stream.is_text(name)}
            attrs = {SOURCE_FILES: stream.source_files()}
            with store.writer(party, RAW, types=text, attrs=attrs) as writer:
                for chunk in stream.chunks():
                    writer.write(chunk)
                writer.commit()
            split = split_party_table(party, store.open(party, RAW), store, contract)
        except ContractBreachError as breach:
            return False, f"party {party}: FAILED the contract {contract.name}: {breach}"
        except InvalidDataError as err:
            return False, f"party {party}: FAILED reading its files: {err}"
    if split.rows_quarantined:
        return False, (f"party {party}: {split.rows_quarantined} of {split.rows_read} rows break "
                       f"the contract {contract.name}: {split.problems(limit=3)}")
    return True, f"party {party}: all {split.rows_read} rows meet the contract {contract.name}"


def _check(args: argparse.Namespace) -> int:
    passed, line = check_party(_contract_path(args.contract), Path(args.landing), args.party)
    (sys.stdout if passed else sys.stderr).write(line + "\n")
    return 0 if passed else 2


def _run(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ContractCommandError as err:
            sys.stderr.write(f"dagan contract {args.contract_command}: {err}\n")
            return 2

    return run


def add_commands(commands: Any) -> None:
    """Add ``contract init`` and ``contract check`` to the ``dagan`` subcommands."""
    p_contract = commands.add_parser("contract", help="draft a table contract, or check a "
                                     "party's files against one")
    sub = p_contract.add_subparsers(dest="contract_command", required=True, metavar="ACTION")
    p_init = sub.add_parser("init", help="draft a contract (GX suite, YAML, dataset file) "
                            "from a sample of files or a column list")
    source = p_init.add_mutually_exclusive_group(required=True)
    source.add_argument("--sample", nargs="+", metavar="DIR_OR_FILE",
                        help="CSV/Parquet files, or folders searched for them")
    source.add_argument("--columns", metavar="NAME:TYPE,...",
                        help="the columns instead of a sample (types int, float, str)")
    p_init.add_argument("--label", required=True, help="the label column")
    p_init.add_argument("--out", required=True, help="folder to write the draft to")
    p_init.add_argument("--name", default=None, help="dataset name and warehouse namespace "
                        "(default: the --out folder's name)")
    p_init.add_argument("--landing", default=None,
                        help="landing area the dataset file names (default: OUT/landing)")
    p_init.add_argument("--test-set", default=None, help="held-out test table it names")
    p_init.add_argument("--max-categories", type=int, default=50,
                        help="text columns with at most this many values get an allowed list")
    p_init.add_argument("--max-rows", type=int, default=None, help="read at most this many "
                        "sample rows")
    p_init.add_argument("--force", action="store_true", help="overwrite an existing draft")
    p_init.set_defaults(handler=_run(_init))
    p_check = sub.add_parser("check", help="validate one party's files against a contract, as "
                             "ingest would (exit status 2 when they fail)")
    p_check.add_argument("--contract", required=True,
                         help="suite (.json), or a dataset file, folder or name")
    p_check.add_argument("--landing", required=True, help="folder holding the party's folder")
    p_check.add_argument("--party", required=True, help="the party's folder name")
    p_check.set_defaults(handler=_run(_check))
