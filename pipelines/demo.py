"""Run the whole pipeline headless on the demo landing area, then query the warehouse.

Steps: register one ``parties`` partition per landing folder and the model version; ingest,
validate and summarise each party (summary + imbalance profile); build the encoder, train,
sample and evaluate the model version (training_job); rebuild the SQL models (analytics_job).
Everything the pipeline writes goes to DAGAN_VAR_DIR (default ``var/``); Dagster's run history
goes to the Dagster home that ``make ui`` opens (``.dagster_home`` in the repository, or
``--dagster-home``, or DAGSTER_HOME when set), so the UI shows the demo's materializations and
plots. Training logs one line per epoch; a failed step ends the demo with one line naming it
(``--verbose``: Dagster's full log and the traceback). ``--dataset`` runs it on another dataset
(a dataset file, see :mod:`pipelines.datasets`): its landing area, contract and test set, in its
warehouse namespace.

Entry points: ``dagan demo`` and ``scripts/run_demo.py`` (same options).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger("dagan.demo")

#: dagan_core's default networks; 10 epochs on the ~32k demo rows take about a minute on 2 CPU
#: cores (much longer while other processes compete for the cores).
DEMO_TRAINING = {"strategy": "dagan", "device": "cpu"}
DEMO_EVALUATION = {"models": ["lr", "dt", "hgb"], "max_rows": 10000, "per_party": True}

#: Title -> query; ``?`` is the model version. The README shows these with their output.
EXAMPLE_QUERIES = {
    "Leaderboard of model versions (ranked within one evaluation setting)": (
        "SELECT setting, rank, model_version, strategy, epochs, "
        "round(tstr_macro_f1, 3) AS tstr_macro_f1, "
        "round(ratio_macro_f1, 3) AS ratio_macro_f1, round(ratio_minority_f1, 3) AS "
        "ratio_minority_f1, round(jsd_mean, 3) AS jsd_mean, round(dcr_ratio, 3) AS dcr_ratio "
        "FROM marts.utility_leaderboard ORDER BY setting, rank"
    ),
    "Class mix per party, real vs synthetic": (
        "SELECT party, label_value, real_n, synthetic_n, round(real_share, 3) AS real_share, "
        "round(synthetic_share, 3) AS synthetic_share FROM marts.class_balance "
        "WHERE model_version = ? ORDER BY party, label_value"
    ),
    "Per-party utility (macro-F1, mean over models)": (
        "SELECT party, round(tstr, 3) AS tstr, round(trtr, 3) AS trtr, round(ratio, 3) AS ratio "
        "FROM marts.per_party_utility WHERE model_version = ? AND metric = 'macro_f1' "
        "ORDER BY party"
    ),
    "The five worst-fitting columns": (
        "SELECT worst_rank, column_name, kind, metric, round(value, 3) AS value "
        "FROM marts.column_fidelity WHERE model_version = ? ORDER BY worst_rank LIMIT 5"
    ),
}


def default_dagster_home() -> Path:
    """DAGSTER_HOME when set, else the repository's ``.dagster_home`` (``make ui`` opens it)."""
    from pipelines.settings import REPO_ROOT

    return Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / ".dagster_home")


def prepare_dagster_home(path: Path | None) -> Path:
    """A DAGSTER_HOME with telemetry off (created if needed) and exported to the environment."""
    home = path or default_dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home.resolve())
    return home


def _log_config() -> dict:
    return {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _execute(job: Any, what: str, verbose: bool, **kwargs: Any) -> Any:
    """Run a job in this process; a failure raises :class:`StepError` naming ``what`` (the
    cause is the step's own error). Unless ``verbose``, the console shows one line per message."""
    from pipelines.console import StepError, progress_logger

    if not verbose:
        job = job.with_logger_defs({"console": progress_logger()})
    try:
        result = job.execute_in_process(**kwargs)
    except Exception as err:
        raise StepError(what) from err
    if not result.success:
        raise StepError(what)
    return result


def _op_config(epochs: int, training: Mapping[str, Any] | None,
               evaluation: Mapping[str, Any] | None, threads: int | None) -> dict[str, Any]:
    per_step = {} if threads is None else {"threads": threads}
    return {
        "dagan_model": {"config": {**DEMO_TRAINING, "epochs": epochs, **per_step,
                                   **(training or {})}},
        "synthetic_table": {"config": per_step},
        "utility_metrics": {"config": {**DEMO_EVALUATION, **per_step, **(evaluation or {})}},
    }


def run_pipeline(
    version: str,
    epochs: int,
    training: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    threads: int | None = None,
    verbose: bool = False,
) -> list[tuple[str, float]]:
    """Materialize every asset of the pipeline once, for the landing parties and ``version``.

    ``training`` and ``evaluation`` override the demo's ``dagan_model`` and ``utility_metrics``
    run config; ``threads`` sets the CPU threads of training, sampling and evaluation (default:
    DAGAN_THREADS, else min(cores - 1, 4)). Returns ``(step, seconds)`` per step.

    Raises:
        StepError: a step failed (its error is the cause).
    """
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.partitions import model_versions, party_partitions
    from pipelines.resources.landing import LandingArea

    instance = dg.DagsterInstance.get()
    parties = LandingArea().parties()
    if not parties:
        raise FileNotFoundError(
            f"no party folder in the landing area {LandingArea().root_path} "
            "(set DAGAN_LANDING_DIR or select a dataset)")
    known = set(instance.get_dynamic_partitions(party_partitions.name))
    instance.add_dynamic_partitions(party_partitions.name, [p for p in parties if p not in known])
    if not instance.has_dynamic_partition(model_versions.name, version):
        instance.add_dynamic_partitions(model_versions.name, [version])

    steps = []
    ingest_job = defs.resolve_job_def("ingest_job")
    for party in parties:
        start = time.perf_counter()
        _execute(ingest_job, f"ingest {party}", verbose,
                 partition_key=party, instance=instance, run_config=_log_config())
        steps.append((f"ingest + validate + summarise {party}", time.perf_counter() - start))

    start = time.perf_counter()
    run_config = {**_log_config(), "ops": _op_config(epochs, training, evaluation, threads)}
    result = _execute(defs.resolve_job_def("training_job"), f"training_job [{version}]", verbose,
                      partition_key=version, instance=instance, run_config=run_config)
    for event in result.get_step_success_events():
        seconds = event.event_specific_data.duration_ms / 1000
        steps.append((f"  {event.step_key} [{version}]", seconds))
    steps.append((f"training_job [{version}]", time.perf_counter() - start))

    start = time.perf_counter()
    _execute(defs.resolve_job_def("analytics_job"), "analytics_job", verbose,
             instance=instance, run_config=_log_config())
    steps.append(("analytics_job (SQL models)", time.perf_counter() - start))
    for name, seconds in steps:
        logger.info("%-45s %7.1fs", name, seconds)
    return steps


def show_warehouse(version: str, out: Any = None) -> None:
    """Write the warehouse location and the example queries with their results."""
    import pandas as pd

    from pipelines import settings
    from pipelines.resources.warehouse import Warehouse

    out = out or sys.stdout
    warehouse = Warehouse()
    path = warehouse.file
    out.write(f"\nDuckDB warehouse: {path}\n")
    out.write(f"Open it read-only:  duckdb.connect('{path}', read_only=True)   (or: make sql)\n")
    with warehouse.read_only_connection() as con:
        tables = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() ORDER BY 1"
        ).fetchall()
        out.write("Tables: " + ", ".join(t[0] for t in tables) + "\n")
        for title, sql in EXAMPLE_QUERIES.items():
            params = [version] if "?" in sql else []
            sql = sql.replace("FROM marts.", f"FROM {settings.warehouse_schema('marts')}.")
            frame = con.execute(sql, params).df()
            shown = sql.replace("?", f"'{version}'")
            with pd.option_context("display.width", 200, "display.max_columns", 50):
                out.write(f"\n-- {title}\n{shown};\n{frame.to_string(index=False)}\n")


def select_dataset(selection: str) -> None:
    """Select a dataset for this process (``DAGAN_DATASET``), before the definitions load.

    Raises:
        pipelines.datasets.DatasetError: no such dataset; SystemExit if the definitions were
            already loaded for another dataset.
    """
    from pipelines.datasets import active_dataset, load_dataset

    wanted = load_dataset(selection)
    if "pipelines.definitions" in sys.modules and active_dataset() != wanted:
        raise SystemExit("the pipeline definitions are already loaded for another dataset")
    os.environ["DAGAN_DATASET"] = str(wanted.file)
    logger.info("dataset %s (%s)", wanted.name, wanted.file)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON: {err}") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object, e.g. '{\"batch_size\": 100}'")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options (shared by ``dagan demo`` and ``scripts/run_demo.py``)."""
    parser.add_argument("--version", default="demo", help="model version (partition key)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs")
    parser.add_argument("--dagster-home", type=Path, default=None,
                        help="DAGSTER_HOME to keep the run history in (default: DAGSTER_HOME, "
                        "else .dagster_home in the repository, the one `make ui` opens)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads of training, sampling and evaluation (default: "
                        "DAGAN_THREADS, else min(cores - 1, 4))")
    parser.add_argument("--verbose", action="store_true",
                        help="Dagster's full run log, and the traceback of an error")
    parser.add_argument("--training-config", type=_json_object, default=None, metavar="JSON",
                        help="overrides of the dagan_model config, e.g. "
                        "'{\"generator_dims\": [64], \"batch_size\": 100}'")
    parser.add_argument("--evaluation-config", type=_json_object, default=None, metavar="JSON",
                        help="overrides of the utility_metrics config, e.g. "
                        "'{\"models\": [\"lr\"]}'")
    parser.add_argument("--no-queries", action="store_true",
                        help="skip the example queries at the end")
    parser.add_argument("--dataset", default=None, metavar="NAME_OR_FILE",
                        help="dataset to run on: a name under datasets/, a dataset.yaml or its "
                        "folder (default: DAGAN_DATASET, else adult)")


def run(args: argparse.Namespace) -> int:
    """Run the demo with parsed options."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logger.setLevel(logging.INFO)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}")
    if args.epochs < 1:
        raise ValueError(f"--epochs must be at least 1, got {args.epochs}")
    if getattr(args, "dataset", None):
        select_dataset(args.dataset)
    try:
        home = prepare_dagster_home(args.dagster_home)
    except OSError as err:
        raise ValueError(f"--dagster-home {args.dagster_home or default_dagster_home()}: "
                         f"cannot use it as the Dagster home ({err.strerror or err})") from err
    logger.info("DAGSTER_HOME=%s", home)
    start = time.perf_counter()
    run_pipeline(args.version, args.epochs, args.training_config, args.evaluation_config,
                 threads=args.threads, verbose=args.verbose)
    if not args.no_queries:
        show_warehouse(args.version)
    sys.stdout.write(f"\ndemo finished in {time.perf_counter() - start:.0f}s\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pipelines.demo [options]`` (the same as ``dagan demo``)."""
    from pipelines.console import report_error

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except Exception as err:  # one line, exit status 2 (--verbose: the traceback)
        return report_error("demo", err, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
