import numpy as np
import pytest

from dagan_core import InvalidDataError
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import declare_columns, merge_declarations, validate_table
from dagan_core.data.summary import PartySummary, summarize_party


def _encoder(parties):
    schema = merge_declarations({p: declare_columns(p, df, "y", None)
                                 for p, df in parties.items()}, "y")
    tables = {p: validate_table(p, df, schema) for p, df in parties.items()}
    sums = [summarize_party(p, t, schema, 10, 0) for p, t in tables.items()]
    return TableEncoder.from_summaries(schema, sums, 10, 0), tables, sums


def test_round_trip(tiny_parties):
    enc, tables, _ = _encoder(tiny_parties)
    for t in tables.values():
        back = enc.decode(enc.encode(t))
        assert (back["color"].to_numpy() == t["color"].to_numpy()).all()
        assert (back["y"].to_numpy() == t["y"].to_numpy()).all()
        assert back["age"].dtype == np.int64
        assert np.abs(back["age"].to_numpy() - t["age"].to_numpy()).max() <= 1
        mix = enc.mixtures["amount"]
        tol = 4 * 0.01 * max(mix.stds) + 1e-6  # only clipped alphas lose precision
        err = np.abs(back["amount"].to_numpy() - t["amount"].to_numpy())
        assert np.quantile(err, 0.95) < tol


def test_layout_is_shared_contract(tiny_parties):
    enc, tables, _ = _encoder(tiny_parties)
    x = enc.encode(tables["party_a"])
    assert x.shape[1] == enc.layout.data_dim
    assert [b.column for b in enc.layout.cond_blocks] == ["color", "y"]
    assert enc.layout.cond_dim == 3 + 2
    assert enc.layout.cond_blocks[enc.layout.label_block].column == "y"


def test_vocab_is_union_in_deterministic_order(tiny_parties):
    enc, _, _ = _encoder(tiny_parties)
    reversed_parties = dict(reversed(list(tiny_parties.items())))
    enc2, _, _ = _encoder(reversed_parties)
    assert enc.vocab == enc2.vocab
    assert enc.vocab["color"] == ["blue", "green", "red"]


def test_summary_reveals_only_aggregates(tiny_parties):
    _, _, sums = _encoder(tiny_parties)
    d = sums[0].to_dict()
    assert set(d) == {"party", "n_rows", "category_counts", "mixtures"}
    assert set(d["mixtures"]["amount"]) == {"weights", "means", "stds", "minimum", "maximum"}
    assert len(d["mixtures"]["amount"]["means"]) <= 10
    assert PartySummary.from_dict(d) == sums[0]


def test_unseen_category_is_named(tiny_parties):
    enc, tables, _ = _encoder(tiny_parties)
    bad = tables["party_a"].copy()
    bad.loc[bad.index[3], "color"] = "purple"
    with pytest.raises(InvalidDataError, match="party='party_a'.*column='color'.*'purple'"):
        enc.encode(bad, party="party_a")


def test_encoder_serialises(tiny_parties):
    enc, tables, _ = _encoder(tiny_parties)
    again = TableEncoder.from_dict(enc.to_dict())
    x = tables["party_b"]
    assert np.array_equal(again.encode(x), enc.encode(x))
