"""The ``dagan`` command line: a thin layer over the pipeline, the library and the benchmark.

    dagan demo [--epochs 10] [--threads N] ...         run the whole pipeline on the demo data
    dagan bench [benchmark flags]                      compare DAGAN with its baselines
    dagan scaling [scaling flags]                      time per epoch vs parties and rows
    dagan flops [flops flags]                          FLOP/epoch vs a replay of its matmuls
    dagan sample --version V --n N --out rows.csv      sample a stored model version
    dagan profile FOLDER                               imbalance profiles of a landing folder
    dagan certs --out DIR --parties A B C              CA and certificates for a federation
    dagan contract init|check ...                      draft a contract; check a party's files

Every command writes its results to stdout and its progress to stderr; errors end with exit
status 2 and one line naming the problem (party, file, column and value where they apply);
``dagan --verbose COMMAND`` (or ``dagan demo --verbose``) also prints the traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Rows drawn per call when sampling; larger requests are drawn in chunks (with progress).
SAMPLE_CHUNK = 50_000


class CommandError(Exception):
    """A problem the user can fix (bad option, missing model version, ...)."""


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# ------------------------------------------------------------------------------------- demo
def _demo(args: argparse.Namespace) -> int:
    from pipelines import demo

    return demo.run(args)


# ------------------------------------------------------------------------------------ bench
def _bench(args: argparse.Namespace) -> int:
    from bench import benchmark

    return benchmark.main(list(args.bench_args), prog="dagan bench")


# ---------------------------------------------------------------------------- scaling, flops
def _scaling(args: argparse.Namespace) -> int:
    from bench import scaling

    return scaling.main(list(args.tool_args), prog="dagan scaling")


def _flops(args: argparse.Namespace) -> int:
    from bench import flops

    return flops.main(list(args.tool_args), prog="dagan flops")


#: Commands whose flags (``--help`` included) all go to a tool of ``bench``.
_TOOLS = {"bench": _bench, "scaling": _scaling, "flops": _flops}


# ----------------------------------------------------------------------------------- sample
def parse_conditions(items: Sequence[str]) -> dict[str, str]:
    """``["col=value", ...]`` -> ``{col: value}``.

    Raises:
        CommandError: an item without ``=`` or a column given twice.
    """
    out: dict[str, str] = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise CommandError(f"--condition {item!r}: expected COLUMN=VALUE")
        if column in out:
            raise CommandError(f"--condition: column {column!r} given twice")
        out[column] = value
    return out


def typed_conditions(synth: Any, conditions: dict[str, str]) -> dict[str, Any]:
    """Give each condition value the type the model knows it by (``"1"`` -> ``1`` for an integer
    category); values the model does not know are passed on as text, so that the library's
    ``ConditionError`` names the parties and values there are."""
    vocab = getattr(getattr(synth, "encoder", None), "vocab", {}) or {}
    typed: dict[str, Any] = {}
    for column, value in conditions.items():
        known = {str(v): v for v in vocab.get(column, [])}
        typed[column] = known.get(value, value)
    return typed


def _write_table(frame: Any, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(out, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        raise CommandError(f"--out {out}: use a .csv or .parquet file name")


def _sample(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    import dagan_core
    from pipelines.resources.model_store import ModelStore

    if args.n <= 0:
        raise CommandError("--n must be a positive number of rows")
    if args.seed < 0:
        raise CommandError("--seed must be 0 or more")
    if Path(args.out).suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise CommandError(f"--out {args.out}: use a .csv or .parquet file name")
    store = ModelStore(root=str(args.model_store) if args.model_store else None)
    try:
        path = store.path(args.version)
    except ValueError as err:
        raise CommandError(str(err)) from err
    if not path.exists():
        known = ", ".join(store.versions()) or "none"
        raise CommandError(
            f"model version {args.version!r} has no checkpoint under {store.root_dir} "
            f"(stored versions: {known})"
        )
    conditions = parse_conditions(args.condition or [])
    _progress(f"loading model version {args.version} from {path}")
    synth = dagan_core.load_synthesizer(path, device=args.device)
    typed = typed_conditions(synth, conditions) or None
    seed = args.seed
    if args.n <= SAMPLE_CHUNK:
        frames = [synth.sample(args.n, party=args.party, conditions=typed, seed=seed,
                                strict=args.strict)]
    else:
        # Large requests: one seeded draw per chunk (same seed and n -> same rows).
        frames, done = [], 0
        while done < args.n:
            size = min(SAMPLE_CHUNK, args.n - done)
            chunk_seed = int(np.random.SeedSequence([seed, done]).generate_state(1)[0])
            frames.append(synth.sample(size, party=args.party, conditions=typed, seed=chunk_seed,
                                       strict=args.strict))
            done += size
            _progress(f"sampled {done}/{args.n} rows")
    rows = pd.concat(frames, ignore_index=True)
    _write_table(rows, Path(args.out))
    per_party = ", ".join(f"{p}={n}" for p, n in rows["party"].value_counts().sort_index().items())
    sys.stdout.write(f"wrote {len(rows)} rows to {args.out} ({per_party})\n")
    sys.stdout.write(_shortfall_note(frames))
    return 0


def _shortfall_note(frames: list) -> str:
    """A line naming the cells sampling fell short on ('' when none)."""
    missed = [s for f in frames for s in f.attrs.get("shortfall", [])]
    if not missed:
        return ""
    cells = "; ".join(
        f"party {s['party']} " + ", ".join(f"{c}={v!r}" for c, v in s["condition"].items())
        + f": {s['missing']} of {s['asked']} rows" for s in missed)
    return (f"the model did not make every row as asked ({cells}); release rows keep the label "
            "the model made, conditional rows are fewer (--strict fails instead)\n")


# ---------------------------------------------------------------------------------- profile
def _landing_profiles(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The label and each party folder's imbalance profile, read chunk by chunk."""
    from dagan_core.profiling import profile_party_chunks
    from pipelines.contracts import model_columns
    from pipelines.resources.landing import LandingArea

    folder = Path(args.folder)
    if not folder.is_dir():
        raise CommandError(f"{folder} is not a folder (expected one sub-folder per party)")
    landing = LandingArea(root=str(folder))
    parties = landing.parties()
    if not parties:
        raise CommandError(f"{folder} has no party sub-folder")
    contract = model_columns()
    label = args.label or contract.label
    profiles = {}
    for party in parties:
        start = time.perf_counter()
        stream = landing.stream_party(party)  # read in chunks: memory holds one chunk
        for warning in stream.warnings:  # files skipped, files landed twice
            _progress(f"warning: {warning}")
        discrete = args.discrete or [c for c in contract.discrete_columns if c in stream.columns]
        profiles[party] = profile_party_chunks(stream.chunks(), label,
                                               discrete_columns=discrete or None, party=party)
        _progress(f"read {party}: {stream.rows} rows from {len(stream.files)} file(s) "
                  f"in {time.perf_counter() - start:.1f}s")
    return label, profiles


def _party_text(party: str, prof: Any, label: str) -> str:
    import pandas as pd

    shares = prof.class_shares
    classes = pd.DataFrame(
        [(c, n, round(shares[c], 4)) for c, n in prof.class_counts.items()],
        columns=[label, "rows", "share"],
    )
    return (
        f"== {party}: {prof.n_rows} rows, imbalance ratio {prof.imbalance_ratio:.2f}, "
        f"label entropy {prof.label_entropy:.3f}, minority class {prof.minority_class!r}"
        f"\n{classes.to_string(index=False)}\n\n"
    )


def _cross_party_text(cross: Any) -> str:
    import pandas as pd

    total = sum(cross.party_sizes.values())
    table = pd.DataFrame(
        [(p, n, round(n / total, 4), round(cross.label_jsd[p], 4),
          ", ".join(cross.missing_classes[p]) or "-")
         for p, n in cross.party_sizes.items()],
        columns=["party", "rows", "share_of_rows", "label_jsd", "missing_classes"],
    )
    single = ", ".join(f"{c} (only {p})" for c, p in cross.single_party_classes.items())
    return (
        f"== cross-party: {len(cross.party_sizes)} parties, size ratio "
        f"{cross.size_ratio:.2f}, classes held by one party only: {single or 'none'}\n"
        f"{table.to_string(index=False)}\n"
    )


def _profile(args: argparse.Namespace) -> int:
    import pandas as pd

    from dagan_core.profiling import profile_parties

    label, profiles = _landing_profiles(args)
    cross = profile_parties(profiles)
    out = sys.stdout
    if args.json:
        payload = {"parties": {p: prof.to_dict() for p, prof in profiles.items()},
                   "cross_party": cross.to_dict()}
        out.write(json.dumps(payload, indent=2, default=str) + "\n")
        return 0
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        for party, prof in profiles.items():
            out.write(_party_text(party, prof, label))
        out.write(_cross_party_text(cross))
    return 0


# ------------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    """The ``dagan`` argument parser."""
    from pipelines import demo

    parser = argparse.ArgumentParser(
        prog="dagan", description="Multi-party synthetic tables: pipeline demo, benchmark, "
        "sampling, profiling and speed measurements."
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the traceback of an error (before its one-line summary)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_demo = commands.add_parser("demo", help="run the whole pipeline on the demo data",
                                 description=(demo.__doc__ or "").split("\n\n")[0])
    demo.add_arguments(p_demo)
    p_demo.set_defaults(handler=_demo)

    p_bench = commands.add_parser(
        "bench", add_help=False, help="compare DAGAN with its baselines (flags of "
        "scripts/benchmark.py; `dagan bench --help` lists them)",
    )
    p_bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    p_bench.set_defaults(handler=_bench)

    for name, text in (("scaling", "time per epoch as parties and rows grow (flags of "
                        "scripts/scaling.py; `dagan scaling --help` lists them)"),
                       ("flops", "FLOP count of a DAGAN epoch vs a replay of its matmuls "
                        "(flags of scripts/flops.py; `dagan flops --help` lists them)")):
        p_tool = commands.add_parser(name, add_help=False, help=text)
        p_tool.add_argument("tool_args", nargs=argparse.REMAINDER)
        p_tool.set_defaults(handler=_TOOLS[name])

    p_sample = commands.add_parser("sample", help="sample rows from a stored model version")
    p_sample.add_argument("--version", required=True, help="model version (partition key)")
    p_sample.add_argument("--n", type=int, required=True, help="rows to generate")
    p_sample.add_argument("--party", default=None,
                          help="only this party's distribution (default: all, by size)")
    p_sample.add_argument("--condition", action="append", metavar="COLUMN=VALUE",
                          help="every row has this value of a discrete column (repeatable)")
    p_sample.add_argument("--seed", type=int, default=0, help="same seed, same rows (default 0)")
    p_sample.add_argument("--strict", action="store_true",
                          help="fail when the model cannot make the asked labels or values, "
                          "instead of keeping what it makes and reporting the shortfall")
    p_sample.add_argument("--out", required=True, help="output file: .csv or .parquet")
    p_sample.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p_sample.add_argument("--model-store", type=Path, default=None,
                          help="root of the model store (default: DAGAN_VAR_DIR/models)")
    p_sample.set_defaults(handler=_sample)

    p_profile = commands.add_parser(
        "profile", help="imbalance profile of each party folder and across parties"
    )
    p_profile.add_argument("folder", help="folder with one sub-folder of CSV/Parquet per party")
    p_profile.add_argument("--label", default=None,
                           help="label column (default: the table contract's label)")
    p_profile.add_argument("--discrete", nargs="+", default=None, metavar="COLUMN",
                           help="discrete columns whose category shares are profiled "
                           "(default: the contract's discrete columns present in the files)")
    p_profile.add_argument("--json", action="store_true", help="write the profiles as JSON")
    p_profile.set_defaults(handler=_profile)
    from pipelines.federation.commands import add_commands

    add_commands(commands)
    from pipelines.contract_commands import add_commands as add_contract_commands

    add_contract_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dagan`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = False
    while argv[:1] and argv[0] in ("--verbose", "-v"):
        verbose, argv = True, argv[1:]
    if argv[:1] and argv[0] in _TOOLS:  # every flag goes to the tool, --help included
        args = argparse.Namespace(command=argv[0], tool_args=argv[1:], bench_args=argv[1:],
                                  handler=_TOOLS[argv[0]])
    else:
        args = build_parser().parse_args(argv)
    verbose = verbose or bool(getattr(args, "verbose", False))
    try:
        return int(args.handler(args) or 0)
    except Exception as err:  # every error: one line, exit status 2 (--verbose: the traceback)
        from pipelines.console import report_error

        return report_error(args.command, err, verbose)


if __name__ == "__main__":
    sys.exit(main())
