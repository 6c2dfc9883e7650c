"""Every kind of bad input raises the library's own error naming party, column and value."""

import numpy as np
import pytest

from dagan_core import InvalidDataError, SchemaMismatchError, make_synthesizer
from tests.conftest import TINY


def _fit(parties, **kw):
    return make_synthesizer("dagan", **{**TINY, "epochs": 1}).fit(parties, label="y", **kw)


def test_unknown_discrete_column(tiny_parties):
    with pytest.raises(InvalidDataError, match="column='colour'"):
        _fit(tiny_parties, discrete_columns=["colour"])


def test_label_missing(tiny_parties):
    tiny_parties["party_b"] = tiny_parties["party_b"].drop(columns="y")
    with pytest.raises(InvalidDataError, match="party='party_b', column='y'"):
        _fit(tiny_parties)


def test_all_null_column(tiny_parties):
    for df in tiny_parties.values():
        df["color"] = None
    with pytest.raises(InvalidDataError, match="column='color'.*entirely null"):
        _fit(tiny_parties)


def test_single_row_party(tiny_parties):
    tiny_parties["party_c"] = tiny_parties["party_c"].head(1)
    with pytest.raises(InvalidDataError, match="party='party_c'.*value=1"):
        _fit(tiny_parties)


def test_party_missing_column(tiny_parties):
    tiny_parties["party_c"] = tiny_parties["party_c"].drop(columns="amount")
    with pytest.raises(SchemaMismatchError, match="party='party_c', column='amount'"):
        _fit(tiny_parties)


def test_nan_in_continuous(tiny_parties):
    tiny_parties["party_a"].loc[5, "amount"] = np.nan
    with pytest.raises(InvalidDataError, match="party='party_a', column='amount'.*NaN"):
        _fit(tiny_parties)


def test_infinity_in_continuous(tiny_parties):
    tiny_parties["party_b"].loc[2, "amount"] = np.inf
    with pytest.raises(InvalidDataError, match="party='party_b', column='amount', value=inf"):
        _fit(tiny_parties)


def test_non_numeric_in_numeric_column(tiny_parties):
    df = tiny_parties["party_b"]
    df["age"] = df["age"].astype(object)
    df.loc[7, "age"] = "forty"
    with pytest.raises(InvalidDataError, match="party='party_b', column='age', value='forty'"):
        _fit(tiny_parties, discrete_columns=["color"])


def test_duplicate_columns(tiny_parties):
    df = tiny_parties["party_a"]
    tiny_parties["party_a"] = df.rename(columns={"amount": "age"})
    with pytest.raises(InvalidDataError, match="party='party_a', column='age'.*duplicate"):
        _fit(tiny_parties)


def test_empty_parties():
    with pytest.raises(InvalidDataError, match="non-empty"):
        make_synthesizer("dagan", **TINY).fit({}, label="y")
