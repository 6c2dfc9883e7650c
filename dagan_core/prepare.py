"""Data preparation, step by step: each party's schema and summary, then the global encoder.

``Synthesizer.fit`` runs these steps itself; a pipeline can run them as separate steps (the
summary at each party, the encoder at the coordinator) and hand the results to ``fit``::

    declared = {p: party_schema(p, df, label) for p, df in parties.items()}
    schema = agree_schema(declared, label)
    summaries = {p: summarize(p, df, schema, config) for p, df in parties.items()}
    encoder = build_encoder(schema, summaries.values(), config)
    synth.fit(parties, label=label, encoder=encoder, summaries=summaries)

Same inputs and config -> the same summaries and encoder, bit for bit, as ``fit`` computes. A
party summary holds its row count, the counts of each discrete column's values and a Gaussian
mixture per continuous column; never a row (docs/federation.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import (
    TableSchema,
    declare_columns,
    merge_declarations,
    validate_table,
)
from dagan_core.data.summary import PartySummary, summarize_party
from dagan_core.errors import InvalidDataError

__all__ = ["MIN_PARTY_ROWS", "agree_schema", "build_encoder", "check_prepared", "empty_columns",
           "exclusion_reason", "party_schema", "summarize"]

#: Fewest rows a party needs to take part in training (its critic trains on them).
MIN_PARTY_ROWS = 2


def party_schema(party: str, table: pd.DataFrame, label: str,
                 discrete_columns: Sequence[str] | None = None) -> dict[str, tuple[str, str]]:
    """What a party declares about its columns: name -> (kind, dtype); runs at the party.

    Raises:
        InvalidDataError: empty table, duplicate columns, missing label or discrete column.
    """
    return declare_columns(party, table, label, discrete_columns)


def empty_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that have no value in any row (all null); none for no rows."""
    if len(table) == 0:
        return []
    return [str(c) for c in table.columns if table[c].isna().all()]


def exclusion_reason(n_rows: int, empty: Sequence[str] = ()) -> str | None:
    """Why a party with ``n_rows`` rows and the all-null columns ``empty`` cannot take part in
    training, or None when it can. Checks the same conditions as :func:`party_schema` and
    :func:`summarize` (at least ``MIN_PARTY_ROWS`` rows, no column without a value), so a
    pipeline can leave such a party out before it breaks a fit."""
    if n_rows < MIN_PARTY_ROWS:
        return f"a party needs at least {MIN_PARTY_ROWS} rows to train its critic, got {n_rows}"
    if not empty:
        return None
    names = ", ".join(repr(c) for c in empty)
    verb = "column {} is" if len(empty) == 1 else "columns {} are"
    return f"{verb.format(names)} empty in every one of its {n_rows} rows"


def agree_schema(declarations: Mapping[str, Mapping[str, tuple[str, str]]],
                 label: str) -> TableSchema:
    """The one schema every party's declaration agrees to (kinds equal, dtypes widened).

    Raises:
        SchemaMismatchError: a party lacks a column, or kinds disagree.
    """
    return merge_declarations(declarations, label)


def summarize(party: str, table: pd.DataFrame, schema: TableSchema,
              config: SynthesizerConfig) -> PartySummary:
    """A party's summary of its table checked against ``schema``; runs at the party.

    Raises:
        InvalidDataError: the table breaks the schema (the message names column and value).
    """
    checked = validate_table(party, table, schema)
    return summarize_party(party, checked, schema, config.model.max_modes, config.train.seed)


def build_encoder(schema: TableSchema, summaries: Iterable[PartySummary],
                  config: SynthesizerConfig) -> TableEncoder:
    """The global encoder merged from every party's summary; runs at the coordinator."""
    return TableEncoder.from_summaries(schema, list(summaries), config.model.max_modes,
                                       config.train.seed)


def check_prepared(parties: Sequence[str], encoder: TableEncoder,
                   summaries: Mapping[str, PartySummary]) -> None:
    """Check that a prepared encoder and summaries belong to these parties.

    Raises:
        InvalidDataError: a party has no summary (or a summary no party), a summary is filed
            under another party's name, or the encoder lacks a column a summary describes.
    """
    missing = [p for p in parties if p not in summaries]
    extra = [p for p in summaries if p not in parties]
    if missing or extra:
        raise InvalidDataError(f"summaries do not match the parties: missing {missing}, "
                               f"unexpected {extra}")
    for name, summary in summaries.items():
        if summary.party != name:
            raise InvalidDataError(f"the summary filed under {name!r} is party "
                                   f"{summary.party!r}'s", party=name)
        known = set(encoder.schema.names)
        for column in [*summary.category_counts, *summary.mixtures]:
            if column not in known:
                raise InvalidDataError("the encoder has no such column", party=name,
                                       column=column)
