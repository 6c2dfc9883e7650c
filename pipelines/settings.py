"""Where the pipeline keeps its files. Every path can be moved with an environment variable.

- ``DAGAN_DATASET``: the dataset (a name under ``datasets/``, a dataset file or its folder; default
  ``adult``). Its file names the contract, the label, the landing area, the test set and the
  warehouse namespace (:mod:`pipelines.datasets`); the variables below override one entry each.
- ``DAGAN_LANDING_DIR``: landing area, one sub-folder per party holding CSV or Parquet files
  (default: the dataset's ``landing``; for Adult the bundled demo under ``demo/landing``).
- ``DAGAN_VAR_DIR``: root of everything the pipeline writes (default ``var/`` in the repository).
  Beneath it: ``parties/<party>/`` (each party's own storage: raw, validated and quarantined rows;
  only that party's code reads it), ``models/<version>/`` (checkpoints keyed by model version) and
  ``warehouse/dagan_warehouse.duckdb`` (the shared warehouse analysts query, one for all
  datasets). A dataset with a namespace keeps its parties and models under
  ``datasets/<name>/`` instead.
- ``DAGAN_TEST_SET``: a real table held out from every party, for TSTR/TRTR utility metrics
  (default: the dataset's ``test_set``; ``demo/reference/adult_test.csv`` for Adult).
- ``DAGAN_PARTY_CONTRACT``: the contract every party table must meet, a Great Expectations suite
  (default: the dataset's ``contract``; ``data_contracts/suites/party_table.json`` for Adult).
  Ingest validates against it, and training,
  the party summaries and the column documentation read the label, discrete columns and column
  types from its ``meta`` block.
- ``DAGAN_FEDERATION_FILE``: a federation file (``pipelines/federation_file.py``:
  party names, endpoints, the coordinator's certificate). Set, the code location runs with
  remote parties: each party serves its own rows on its own host (``dagan party serve``), the
  coordinator reads no landing file, and training runs over gRPC with mutual TLS
  (docs/remote_parties.md). Unset or empty (the default): simulated parties, the landing folders
  of this machine.
- ``DAGAN_INGEST_CHUNK_ROWS``: rows per chunk when ingest reads, validates and writes a party's
  table (default 50 000). Memory of an ingest run is about one chunk, whatever the size of the
  party's files.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.datasets import Dataset, active_dataset

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The analysts' SQL models (dbt_like_sql/): one file = one warehouse table.
SQL_MODELS_DIR = REPO_ROOT / "dbt_like_sql"


def landing_dir() -> Path:
    """Root of the landing area (one folder per party)."""
    return Path(os.environ.get("DAGAN_LANDING_DIR") or active_dataset().landing)


def var_dir() -> Path:
    """Root of everything the pipeline writes."""
    return Path(os.environ.get("DAGAN_VAR_DIR", REPO_ROOT / "var"))


def dataset_var_dir(dataset: Dataset | None = None) -> Path:
    """Where the dataset's own files go: ``var_dir()`` for a dataset without a namespace (Adult),
    else ``var_dir()/datasets/<name>``."""
    dataset = dataset or active_dataset()
    return var_dir() / "datasets" / dataset.name if dataset.namespace else var_dir()


def party_store_dir() -> Path:
    """Root of the per-party private stores."""
    return dataset_var_dir() / "parties"


def model_store_dir() -> Path:
    """Root of model checkpoints, one folder per model version."""
    return dataset_var_dir() / "models"


def io_dir() -> Path:
    """Root of the values Dagster stores between assets."""
    return dataset_var_dir() / "io"


def warehouse_schema(logical: str) -> str:
    """The selected dataset's warehouse schema for ``logical`` (``synthetic``, ``metrics``,
    ``marts``): the name itself for Adult, ``<logical>_<namespace>`` for another dataset."""
    return active_dataset().schema(logical)


def warehouse_path() -> Path:
    """The shared DuckDB warehouse file (its stem is not a schema name)."""
    return var_dir() / "warehouse" / "dagan_warehouse.duckdb"


def test_set_path() -> Path:
    """Real held-out table used for utility metrics."""
    override = os.environ.get("DAGAN_TEST_SET")
    if override:
        return Path(override)
    dataset = active_dataset()
    if dataset.test_set is None:
        raise ValueError(
            f"dataset {dataset.name} ({dataset.file}) names no test_set: add a held-out table "
            "of real rows to it, or set DAGAN_TEST_SET"
        )
    return dataset.test_set


def party_contract_path() -> Path:
    """The party table contract (``DAGAN_PARTY_CONTRACT`` overrides it)."""
    return Path(os.environ.get("DAGAN_PARTY_CONTRACT") or active_dataset().contract)


def party_contract_doc_path() -> Path:
    """The contract's human-readable form: a description of every column."""
    return active_dataset().contract_doc


def federation_file() -> Path | None:
    """The federation file of remote parties (``DAGAN_FEDERATION_FILE``); None: simulated."""
    text = os.environ.get("DAGAN_FEDERATION_FILE", "").strip()
    return Path(text) if text else None


DEFAULT_INGEST_CHUNK_ROWS = 50_000


def ingest_chunk_rows() -> int:
    """Rows per chunk of the streamed ingest (``DAGAN_INGEST_CHUNK_ROWS``, default 50 000)."""
    text = os.environ.get("DAGAN_INGEST_CHUNK_ROWS", "").strip()
    if not text:
        return DEFAULT_INGEST_CHUNK_ROWS
    try:
        rows = int(text.replace("_", ""))
    except ValueError:
        rows = 0
    if rows < 1:
        raise ValueError(f"DAGAN_INGEST_CHUNK_ROWS must be a positive whole number, got {text!r}")
    return rows
