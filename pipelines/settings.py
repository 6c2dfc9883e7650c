"""Where the pipeline keeps its files. Every path can be moved with an environment variable.

- ``DAGAN_LANDING_DIR``: landing area, one sub-folder per party holding CSV or Parquet files
  (default: the bundled Adult demo under ``demo/landing``).
- ``DAGAN_VAR_DIR``: root of everything the pipeline writes (default ``var/`` in the repository).
  Beneath it: ``parties/<party>/`` (each party's own storage: raw, validated and quarantined rows;
  only that party's code reads it), ``models/<version>/`` (checkpoints keyed by model version) and
  ``warehouse/dagan_warehouse.duckdb`` (the shared warehouse analysts query).
- ``DAGAN_TEST_SET``: a real table held out from every party, for TSTR/TRTR utility metrics
  (default: ``demo/reference/adult_test.csv``).
- ``DAGAN_PARTY_CONTRACT``: the contract every party table must meet, a Great Expectations suite
  (default: ``data_contracts/suites/party_table.json``). Ingest validates against it, and training,
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

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The analysts' SQL models (dbt_like_sql/): one file = one warehouse table.
SQL_MODELS_DIR = REPO_ROOT / "dbt_like_sql"


def landing_dir() -> Path:
    """Root of the landing area (one folder per party)."""
    return Path(os.environ.get("DAGAN_LANDING_DIR", REPO_ROOT / "demo" / "landing"))


def var_dir() -> Path:
    """Root of everything the pipeline writes."""
    return Path(os.environ.get("DAGAN_VAR_DIR", REPO_ROOT / "var"))


def party_store_dir() -> Path:
    """Root of the per-party private stores."""
    return var_dir() / "parties"


def model_store_dir() -> Path:
    """Root of model checkpoints, one folder per model version."""
    return var_dir() / "models"


def warehouse_path() -> Path:
    """The shared DuckDB warehouse file (its stem is not a schema name)."""
    return var_dir() / "warehouse" / "dagan_warehouse.duckdb"


def test_set_path() -> Path:
    """Real held-out table used for utility metrics."""
    default = REPO_ROOT / "demo" / "reference" / "adult_test.csv"
    return Path(os.environ.get("DAGAN_TEST_SET", default))


def party_contract_path() -> Path:
    """The party table contract (``DAGAN_PARTY_CONTRACT`` overrides it)."""
    default = REPO_ROOT / "data_contracts" / "suites" / "party_table.json"
    return Path(os.environ.get("DAGAN_PARTY_CONTRACT", default))


def party_contract_doc_path() -> Path:
    """The contract's human-readable form: a description of every column."""
    return REPO_ROOT / "data_contracts" / "party_table.yaml"


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
