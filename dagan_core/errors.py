"""Exceptions raised by dagan_core.

Every data error names where the problem is (party, column, value) so that a data engineer can
fix the offending file without reading a traceback.
"""

from __future__ import annotations

from typing import Any


class DAGANError(Exception):
    """Base class of every error raised by dagan_core."""


class ConfigError(DAGANError, ValueError):
    """A hyperparameter or strategy name is invalid."""


class NotFittedError(DAGANError, RuntimeError):
    """A synthesizer was asked to sample or save before it was fitted."""


class InvalidDataError(DAGANError, ValueError):
    """A party's table breaks the shared schema or holds a value the model cannot encode.

    Attributes:
        party: the party whose table is at fault (None when not party specific).
        column: the offending column (None for table-level problems).
        value: the offending value, if one value is at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        party: str | None = None,
        column: str | None = None,
        value: Any = None,
    ) -> None:
        self.party = party
        self.column = column
        self.value = value
        where = []
        if party is not None:
            where.append(f"party={party!r}")
        if column is not None:
            where.append(f"column={column!r}")
        if value is not None:
            where.append(f"value={value!r}")
        prefix = f"[{', '.join(where)}] " if where else ""
        super().__init__(prefix + message)


class SchemaMismatchError(InvalidDataError):
    """Parties do not share one schema (missing or extra columns, different kinds)."""


class ConditionError(DAGANError, ValueError):
    """A sampling condition cannot be honoured (unknown column or value, or a (party, value)
    combination that the party never had)."""
