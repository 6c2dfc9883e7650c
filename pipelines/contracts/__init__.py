"""The party table contract: one reader of the contract file, and validation against it.

The contract is a Great Expectations 1.x suite, ``settings.party_contract_path()``
(``data_contracts/suites/party_table.json`` unless ``DAGAN_PARTY_CONTRACT`` names another file).
Its ``meta`` block carries the column types, the label and the discrete columns.

Modules:

- :mod:`~pipelines.contracts.suite`: reads and checks the contract file (no GX import): its
  :class:`ContractSpec` and the :class:`ModelColumns` training uses;
- :mod:`~pipelines.contracts.meta`: column documentation from ``data_contracts/party_table.yaml``;
- :mod:`~pipelines.contracts.prepare`: the frame GX sees, and the first pass over the numbers;
- :mod:`~pipelines.contracts.rules`: which rules run chunk by chunk; the row count rule;
- :mod:`~pipelines.contracts.gx`: the GX context (great_expectations imported lazily);
- :mod:`~pipelines.contracts.stream`: :class:`ContractStream`, validation chunk by chunk;
- :mod:`~pipelines.contracts.results`: :class:`ContractResult` and :class:`ChunkOutcome`;
- :mod:`~pipelines.contracts.reasons`: the wording of quarantine reasons and schema problems.
"""

from pipelines.contracts.meta import ColumnDoc, column_docs, shared_table_schema
from pipelines.contracts.prepare import NumericScan, columns_to_scan, prepare_frame, scan_numbers
from pipelines.contracts.results import (
    QUARANTINE_COLUMNS,
    ROW_FAILURE_COLUMNS,
    ChunkOutcome,
    ContractResult,
)
from pipelines.contracts.stream import ContractStream
from pipelines.contracts.suite import (
    LEVELS,
    NUMERIC_TYPES,
    ROW,
    SCHEMA,
    TEXT_TYPES,
    ContractSpec,
    ModelColumns,
    contract_path,
    contract_spec,
    model_columns,
    read_suite_json,
)

__all__ = [
    "LEVELS",
    "NUMERIC_TYPES",
    "QUARANTINE_COLUMNS",
    "ROW",
    "ROW_FAILURE_COLUMNS",
    "SCHEMA",
    "TEXT_TYPES",
    "ChunkOutcome",
    "ColumnDoc",
    "ContractResult",
    "ContractSpec",
    "ContractStream",
    "ModelColumns",
    "NumericScan",
    "column_docs",
    "columns_to_scan",
    "contract_path",
    "contract_spec",
    "model_columns",
    "prepare_frame",
    "read_suite_json",
    "scan_numbers",
    "shared_table_schema",
]
