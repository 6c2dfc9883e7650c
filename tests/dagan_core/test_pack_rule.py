"""The automatic pack size (``pac=None``): single-row critics when a label class is rare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagan_core import make_synthesizer
from dagan_core.data.summary import PartySummary
from dagan_core.errors import ConfigError
from dagan_core.federation.pack_rule import (
    PACKED_PAC,
    RARE_PAC,
    automatic_pac,
    rarest_class_share,
    same_but_resolved,
)
from dagan_core.synthesizers.checkpoint import load_model
from tests.conftest import TINY

AUTO = {k: v for k, v in TINY.items() if k != "pac"} | {"epochs": 1}


def _summary(party: str, counts: dict[str, int]) -> PartySummary:
    return PartySummary(party, sum(counts.values()), {"y": list(counts.items())}, {})


def test_the_rarest_class_share_pools_every_partys_label_counts():
    a = _summary("a", {"no": 500, "yes": 3})
    b = _summary("b", {"no": 490, "yes": 2, "maybe": 5})
    assert rarest_class_share([a, b], "y") == pytest.approx(5 / 1000)
    assert automatic_pac([a, b], "y") == RARE_PAC == 1
    # 2 % exactly is not rare; just under is
    assert automatic_pac([_summary("a", {"no": 98, "yes": 2})], "y") == PACKED_PAC == 10
    assert automatic_pac([_summary("a", {"no": 981, "yes": 19})], "y") == RARE_PAC
    # a class that one party lacks is rare only by its pooled count
    assert automatic_pac([_summary("a", {"no": 100}), _summary("b", {"yes": 100})], "y") == 10


def _table(n: int, n_yes: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.array(["no"] * (n - n_yes) + ["yes"] * n_yes)
    amount = np.round(rng.gamma(2.0, 50.0, n), 2) + np.where(y == "yes", 80.0, 0.0)
    return pd.DataFrame({"age": rng.integers(18, 80, n), "amount": amount,
                         "color": rng.choice(["red", "green"], n), "y": y})


def _pacs(run) -> set[int]:
    return {party.pac for party in run.trainer.parties.values()}


def test_fit_resolves_an_automatic_pac_from_the_pooled_label_counts(tmp_path):
    rare = {"a": _table(300, 2, 1), "b": _table(200, 1, 2)}  # 0.6 % 'yes'
    common = {"a": _table(300, 60, 1), "b": _table(200, 40, 2)}  # 20 % 'yes'
    for tables, want in ((rare, 1), (common, 10)):
        s = make_synthesizer("dagan", **AUTO)
        assert s.config.model.pac is None
        run = s.begin_fit(tables, label="y")
        assert _pacs(run) == {want}
        run.run_epoch()
        run.finish()
        # the saved model records the pack size its critics used
        assert s.model.config.model.pac == want
        s.save(tmp_path / f"m{want}")
        assert load_model(tmp_path / f"m{want}").config.model.pac == want


def test_a_pac_that_is_set_is_kept_whatever_the_label_counts():
    s = make_synthesizer("dagan", **{**AUTO, "pac": 4})
    run = s.begin_fit({"a": _table(300, 2, 1), "b": _table(200, 1, 2)}, label="y")
    assert _pacs(run) == {4}


def test_a_party_set_up_with_the_resolved_pac_accepts_nothing_else():
    asked = make_synthesizer("dagan", **AUTO).config
    assert same_but_resolved(asked, asked.replace(pac=1))
    assert same_but_resolved(asked, asked)
    assert not same_but_resolved(asked, asked.replace(pac=1, epochs=3))
    fixed = asked.replace(pac=5)
    assert not same_but_resolved(fixed, fixed.replace(pac=1))


def test_critics_are_not_built_before_an_automatic_pac_is_resolved():
    from dagan_core.federation.party import pack_size

    with pytest.raises(ConfigError, match="resolve_pac"):
        pack_size(make_synthesizer("dagan", **AUTO).config, 100)
