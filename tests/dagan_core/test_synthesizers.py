"""fit / sample / save / load / resume, for DAGAN and every baseline."""

import numpy as np
import pandas as pd
import pytest
import torch

from dagan_core import (
    STRATEGIES,
    ConditionError,
    NotFittedError,
    load_synthesizer,
    make_synthesizer,
)
from tests.conftest import TINY


@pytest.fixture(scope="module")
def fitted(request):
    from tests.conftest import three_parties

    parties = three_parties()
    out = {s: make_synthesizer(s, **TINY).fit(parties, label="y") for s in STRATEGIES}
    return out, parties


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_sample_schema_and_party_mix(fitted, strategy):
    synths, parties = fitted
    s = synths[strategy]
    out = s.sample(1000, seed=3)
    assert list(out.columns) == ["age", "amount", "color", "y", "party"]
    assert out["age"].dtype == np.int64 and out["amount"].dtype == np.float64
    assert set(out["y"]) <= {"yes", "no"} and set(out["color"]) <= {"red", "green", "blue"}
    shares = out["party"].value_counts(normalize=True)
    sizes = pd.Series({p: len(d) for p, d in parties.items()})
    assert np.allclose(shares[sizes.index], sizes / sizes.sum(), atol=0.05)
    assert len(s.history) == TINY["epochs"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_rows(fitted, strategy):
    s = fitted[0][strategy]
    pd.testing.assert_frame_equal(s.sample(300, seed=11), s.sample(300, seed=11))
    assert not s.sample(300, seed=11).equals(s.sample(300, seed=12))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("column,value", [("y", "yes"), ("y", "no"), ("color", "red"),
                                          ("color", "blue"), ("color", "green")])
def test_conditions_on_every_discrete_column(fitted, strategy, column, value):
    s = fitted[0][strategy]
    out = s.sample(120, conditions={column: value}, seed=5)
    assert len(out) == 120 and (out[column] == value).all()
    one = s.sample(60, party="party_a", conditions={column: value}, seed=5)
    assert (one["party"] == "party_a").all() and (one[column] == value).all()


def test_cell_a_party_never_had_is_refused(fitted):
    s = fitted[0]["dagan"]
    with pytest.raises(ConditionError, match="party 'party_c' has no row with y='yes'.*party_a"):
        s.sample(10, party="party_c", conditions={"y": "yes"})
    out = s.sample(400, conditions={"y": "yes"}, seed=1)
    assert "party_c" not in set(out["party"])  # explicit fallback: only parties that hold it


def test_bad_conditions_are_named(fitted):
    s = fitted[0]["dagan"]
    with pytest.raises(ConditionError, match="unknown column 'colour'"):
        s.sample(5, conditions={"colour": "red"})
    with pytest.raises(ConditionError, match="'purple' never occurs in column 'color'"):
        s.sample(5, conditions={"color": "purple"})
    with pytest.raises(ConditionError, match="continuous"):
        s.sample(5, conditions={"amount": 3.0})
    with pytest.raises(ConditionError, match="unknown party 'party_z'"):
        s.sample(5, party="party_z")


def test_unfitted_cannot_sample():
    with pytest.raises(NotFittedError):
        make_synthesizer("dagan").sample(3)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_checkpoint_round_trip(fitted, strategy, tmp_path):
    s = fitted[0][strategy]
    s.save(tmp_path / "m")
    again = load_synthesizer(tmp_path / "m", device="cpu")
    assert again.config.strategy == strategy
    pd.testing.assert_frame_equal(s.sample(200, seed=9), again.sample(200, seed=9))
    assert again.history == s.history


def test_checkpoint_holds_no_party_row(tiny_parties, tmp_path):
    sentinel = 123.4567  # an interior value (not a column extreme)
    tiny_parties["party_a"].loc[10, "amount"] = sentinel
    s = make_synthesizer("dagan", **TINY).fit(tiny_parties, label="y")
    s.save(tmp_path / "m")
    s.fit(tiny_parties, label="y", checkpoint_dir=tmp_path / "ck")  # also a training state
    for f in list((tmp_path / "m").iterdir()) + list((tmp_path / "ck").rglob("*.*")):
        if f.suffix == ".json":
            assert "123.4567" not in f.read_text()
        elif f.suffix == ".pt":
            state = torch.load(f, weights_only=False)
            tensors = []

            def walk(x):
                if isinstance(x, torch.Tensor):
                    tensors.append(x)
                elif isinstance(x, dict):
                    [walk(v) for v in x.values()]
                elif isinstance(x, (list, tuple)):
                    [walk(v) for v in x]
            walk(state)
            for t in tensors:
                if t.is_floating_point():
                    target = torch.tensor(sentinel, dtype=torch.float64)
                    assert not torch.isclose(t.double(), target).any()
                    assert t.shape[-1:] != (s.encoder.layout.data_dim,) or t.dim() < 2


@pytest.mark.parametrize("strategy", ["dagan", "fedsyn"])
def test_resume_equals_uninterrupted(tiny_parties, tmp_path, strategy):
    cfg = {**TINY, "epochs": 3}
    full = make_synthesizer(strategy, **cfg).fit(tiny_parties, label="y")
    ck = tmp_path / "ck"
    make_synthesizer(strategy, **{**cfg, "epochs": 2}).fit(tiny_parties, label="y",
                                                          checkpoint_dir=ck)
    resumed = make_synthesizer(strategy, **cfg).fit(tiny_parties, label="y", checkpoint_dir=ck)
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2]
    for g1, g2 in zip(full.model.generators, resumed.model.generators):
        for (k, a), b in zip(g1.state_dict().items(), g2.state_dict().values()):
            assert torch.equal(a, b), k
    pd.testing.assert_frame_equal(full.sample(100, seed=1), resumed.sample(100, seed=1))


def test_epoch_callback_reports_statistics(tiny_parties):
    seen = []
    make_synthesizer("dagan", **TINY).fit(tiny_parties, label="y", on_epoch_end=seen.append)
    st = seen[-1].to_dict()
    assert set(st["alpha"]) == set(tiny_parties) and abs(sum(st["alpha"].values()) - 1) < 1e-6
    assert set(st["pi"]["party_c"]) == {"no", "yes"} and st["pi"]["party_c"]["yes"] == 0
    for key in ("critic_loss", "wasserstein", "gradient_penalty", "fit_gap"):
        assert set(st[key]) == set(tiny_parties)
    assert st["bytes_exchanged"] > 0 and st["seconds"] > 0


@pytest.mark.parametrize("strategy", ["dagan", "local"])
def test_sampling_inside_the_epoch_callback_leaves_training_unchanged(tiny_parties, strategy):
    plain = make_synthesizer(strategy, **TINY).fit(tiny_parties, label="y")
    probed = make_synthesizer(strategy, **TINY)
    sizes = []
    probed.fit(tiny_parties, label="y",
               on_epoch_end=lambda st: sizes.append(len(probed.sample(50, seed=st.epoch))))
    assert sizes == [50] * TINY["epochs"]
    assert [h["generator_loss"] for h in probed.history] == [
        h["generator_loss"] for h in plain.history]
    pd.testing.assert_frame_equal(plain.sample(100, seed=1), probed.sample(100, seed=1))


def test_fedsyn_noise_reports_epsilon(tiny_parties):
    s = make_synthesizer("fedsyn", **{**TINY, "epochs": 1}, fedsyn_noise_scale=0.001)
    s.fit(tiny_parties, label="y")
    noise = s.privacy["fedsyn_weight_noise"]
    assert noise["epsilon_per_round"] > 0
    assert noise["epsilon"] == pytest.approx(noise["epsilon_per_round"] * TINY_ROUNDS)
    assert s.history[-1]["fedsyn_epsilon_per_round"] == noise["epsilon_per_round"]
    assert s.history[-1]["fedsyn_epsilon"] == noise["epsilon"]
    assert "epsilon" not in s.privacy  # DP-SGD of the critics is off


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_release_never_invents_a_party_class_cell(fitted, strategy):
    s = fitted[0][strategy]
    out = s.sample(600, seed=4)
    assert "yes" not in set(out.loc[out["party"] == "party_c", "y"])
    # and each party's label mix follows its real mix
    for p, df in fitted[1].items():
        real = (df["y"] == "yes").mean()
        synth = (out.loc[out["party"] == p, "y"] == "yes").mean()
        assert abs(real - synth) < 0.12


def test_bytes_count_only_what_crosses_a_boundary(tiny_parties):
    local = make_synthesizer("local", **{**TINY, "epochs": 1}).fit(tiny_parties, label="y")
    assert local.history[-1]["bytes_exchanged"] == 0  # each GAN lives at its party
    fed = make_synthesizer("fedsyn", **{**TINY, "epochs": 1}).fit(tiny_parties, label="y")
    n_g = sum(p.numel() for p in fed.model.generators[0].parameters())
    per_round = 2 * len(tiny_parties) * n_g * 4  # at least the generator, up and down
    assert fed.history[-1]["bytes_exchanged"] > per_round * TINY_ROUNDS


TINY_ROUNDS = 5  # FederationConfig.fedsyn_rounds_per_epoch default


@pytest.fixture
def stubborn(fitted, monkeypatch):
    """The DAGAN model, made to ignore its label condition: every row gets the first label."""
    from dagan_core.synthesizers import sampling

    s = fitted[0]["dagan"]
    layout = s.encoder.layout
    block = layout.cond_blocks[layout.label_block]
    real = sampling._generate

    def first_label_only(*args):
        out = real(*args)
        out[:, block.data_start:block.data_start + block.width] = 0.0
        out[:, block.data_start] = 1.0
        return out

    monkeypatch.setattr(sampling, "_generate", first_label_only)
    return s, s.encoder.vocab["y"]


def test_a_model_that_ignores_its_label_fails_strict_sampling(stubborn):
    s, _ = stubborn
    with pytest.raises(ConditionError, match="did not produce the asked label classes"):
        s.sample(200, seed=1, strict=True)


def test_lenient_sampling_keeps_the_rows_and_counts_the_misses(stubborn):
    s, vocab = stubborn
    out = s.sample(200, seed=1, strict=False)
    assert len(out) == 200 and (out["y"] == vocab[0]).all()
    # every row that was asked for the second label missed it
    assert 0 < out.attrs["unmet_rows"] < 200
    asked = s.sample(50, conditions={"y": vocab[1]}, seed=1, strict=False)
    assert len(asked) == 0 and asked.attrs["unmet_rows"] == 50
    kept = s.sample(50, conditions={"y": vocab[0]}, seed=1, strict=False)
    assert len(kept) == 50 and kept.attrs["unmet_rows"] == 0
