"""Which dataset the pipeline works on: one project file per dataset, no code.

A dataset file (``datasets/<name>/dataset.yaml``, or any YAML file) names everything that differs
from one table to another; paths in it are relative to the file::

    name: bank                       # identifier: letters, digits, '_'
    contract: suites/party_table.json   # the Great Expectations suite (meta: types, label, ...)
    contract_doc: party_table.yaml   # the people-readable column descriptions
    label: y                         # must equal the suite's meta.label
    landing: landing                 # one sub-folder of CSV/Parquet files per party
    test_set: test.csv               # real rows held out from every party (utility metrics)
    namespace: bank                  # warehouse schemas synthetic_bank, metrics_bank, marts_bank

``DAGAN_DATASET`` selects the dataset: a dataset name (``datasets/<name>/dataset.yaml`` of the
repository), a dataset file, or a folder holding ``dataset.yaml``. Unset, the dataset is UCI Adult
(``datasets/adult/dataset.yaml``, whose entries are the committed ``data_contracts/`` files, the
demo landing area and the demo test set; its namespace is empty, so its tables keep their plain
names ``synthetic.rows``, ``metrics.*``, ``marts.*``).

``DAGAN_LANDING_DIR``, ``DAGAN_TEST_SET`` and ``DAGAN_PARTY_CONTRACT`` still override one entry
of whichever dataset is selected. Everything a dataset writes besides the warehouse (party stores,
checkpoints, Dagster's stored values) lives under ``DAGAN_VAR_DIR/datasets/<name>/`` when its
namespace is not empty, so two datasets never share a party store or a model version's files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASETS_DIR = REPO_ROOT / "datasets"
DEFAULT_DATASET = "adult"
DATASET_FILE = "dataset.yaml"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_REQUIRED = ("name", "contract", "contract_doc", "landing")


class DatasetError(ValueError):
    """A dataset file that cannot be used, with the file and the entry named."""


@dataclass(frozen=True)
class Dataset:
    """One dataset's files and its place in the warehouse."""

    name: str
    file: Path
    contract: Path
    contract_doc: Path
    label: str | None
    landing: Path
    test_set: Path | None
    namespace: str

    def schema(self, logical: str) -> str:
        """Warehouse schema of this dataset for ``logical`` (``synthetic``, ``metrics``,
        ``marts``): the plain name for an empty namespace, else ``<logical>_<namespace>``."""
        return f"{logical}_{self.namespace}" if self.namespace else logical


def _resolve(base: Path, value: Any, file: Path, entry: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"dataset file {file}: '{entry}' must be a path")
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def _identifier(value: Any, file: Path, entry: str, *, empty_ok: bool = False) -> str:
    text = "" if value is None else str(value)
    if (empty_ok and text == "") or _IDENTIFIER.match(text):
        return text
    raise DatasetError(
        f"dataset file {file}: '{entry}' is {text!r}; use lower-case letters, digits and '_', "
        "starting with a letter"
    )


@lru_cache(maxsize=16)
def _load(file: Path, mtime_ns: int) -> Dataset:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"dataset file {file}: cannot read it: {exc}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"dataset file {file}: expected a mapping of entries")
    missing = [entry for entry in _REQUIRED if entry not in data]
    if missing:
        raise DatasetError(f"dataset file {file}: missing entries {missing}")
    base = file.parent
    name = _identifier(data["name"], file, "name")
    test_set = data.get("test_set")
    return Dataset(
        name=name,
        file=file,
        contract=_resolve(base, data["contract"], file, "contract"),
        contract_doc=_resolve(base, data["contract_doc"], file, "contract_doc"),
        label=str(data["label"]) if data.get("label") is not None else None,
        landing=_resolve(base, data["landing"], file, "landing"),
        test_set=_resolve(base, test_set, file, "test_set") if test_set is not None else None,
        namespace=_identifier(data.get("namespace", name), file, "namespace", empty_ok=True),
    )


def dataset_file(selection: str | os.PathLike[str] | None = None) -> Path:
    """The dataset file ``selection`` (or ``DAGAN_DATASET``, or Adult) names.

    Raises:
        DatasetError: when no such dataset file exists (the known names are listed).
    """
    text = str(selection if selection is not None else os.environ.get("DAGAN_DATASET", "")).strip()
    if not text:
        return DATASETS_DIR / DEFAULT_DATASET / DATASET_FILE
    path = Path(text).expanduser()
    if path.is_dir():
        path = path / DATASET_FILE
    if path.is_file():
        return path.resolve()
    named = DATASETS_DIR / text / DATASET_FILE
    if named.is_file():
        return named
    known = ", ".join(sorted(p.parent.name for p in DATASETS_DIR.glob(f"*/{DATASET_FILE}")))
    raise DatasetError(
        f"dataset {text!r}: no such dataset file or folder, and no {named} "
        f"(datasets of the repository: {known or 'none'})"
    )


def load_dataset(selection: str | os.PathLike[str] | None = None) -> Dataset:
    """The dataset ``selection`` names (default: ``DAGAN_DATASET``, else Adult)."""
    file = dataset_file(selection)
    return _load(file, file.stat().st_mtime_ns)


def active_dataset() -> Dataset:
    """The selected dataset (``DAGAN_DATASET``)."""
    return load_dataset(None)


def check_label(dataset: Dataset, suite_label: str | None) -> None:
    """Refuse a dataset file whose label is not its contract's label.

    Raises:
        DatasetError: naming both files and both labels.
    """
    if dataset.label is not None and suite_label != dataset.label:
        raise DatasetError(
            f"dataset file {dataset.file}: label {dataset.label!r} but its contract "
            f"{dataset.contract} says meta.label {suite_label!r}"
        )
