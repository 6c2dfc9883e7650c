"""The benchmark's variants: the library's strategies (and ablations of DAGAN), and the ``ctgan``
package on the pooled rows. Each is fitted, sampled and timed here; scoring is the caller's."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from bench.scenario import ScenarioSetup
from dagan_core.strategies import strategy_names

#: DAGAN's ablations (``dagan-party-attention``: the party-level attention, alpha_p and each
#: party's own class mix at beta 0.5, which the ``no-local``/``no-global``/``rho0``/``balanced``
#: ablations vary; ``dagan-classalpha``: the per-class weights at beta 0.5; ``dagan-beta*``: the
#: class prior's exponent), and strategies with the class guide on: variant name -> (strategy,
#: extra hyperparameters)
_PARTY_LEVEL = {"class_alpha": False, "local_beta": 0.5}
ABLATIONS = {
    "dagan-party-attention": ("dagan", _PARTY_LEVEL),
    "dagan-no-local": ("dagan", {**_PARTY_LEVEL, "local_attention": False}),
    "dagan-no-global": ("dagan", {**_PARTY_LEVEL, "global_attention": False}),
    "dagan-rho0": ("dagan", {**_PARTY_LEVEL, "global_rho": 0.0}),
    "dagan-balanced": ("dagan", {"class_alpha": False, "global_rho": 0.0, "local_beta": 0.0}),
    "dagan-class": ("dagan", {"class_loss_weight": 1.0}),
    "mdgan-class": ("mdgan", {"class_loss_weight": 1.0}),
    "dagan-classalpha": ("dagan", {"class_alpha": True, "local_beta": 0.5}),
    "dagan-classalpha-rho0.5": ("dagan", {"class_alpha": True, "class_rho": 0.5,
                                          "local_beta": 0.5}),
    "dagan-beta0.5": ("dagan", {"local_beta": 0.5}),  # = dagan (AttentionConfig's beta)
    "dagan-beta0.25": ("dagan", {"local_beta": 0.25}),
    "dagan-beta0": ("dagan", {"local_beta": 0.0}),
    "dagan-lcp0.8": ("dagan", {"label_condition_prob": 0.8, "local_beta": 0.0}),
    "dagan-ema0.99": ("dagan", {"generator_ema": 0.99}),  # = dagan (TrainConfig's default)
    "dagan-no-ema": ("dagan", {"generator_ema": 0.0}),
    "mdgan-no-ema": ("mdgan", {"generator_ema": 0.0}),
    "centralized-no-ema": ("centralized", {"generator_ema": 0.0}),
    "dagan-pac1": ("dagan", {"pac": 1}),  # the critics score single rows, not packs of 10
    "dagan-pac4": ("dagan", {"pac": 4}),
    "mdgan-pac1": ("mdgan", {"pac": 1}),
    # packs of 10 on every table (the default before pac=None chose by the label counts)
    "dagan-pac10": ("dagan", {"pac": 10}),
    "mdgan-pac10": ("mdgan", {"pac": 10}),
    "centralized-pac10": ("centralized", {"pac": 10}),
}
#: variant name -> (strategy, extra hyperparameters): every registered strategy as it is, then
#: the ablations; "ctgan" is the ctgan package instead
VARIANTS = {
    **{name: (name, {}) for name in strategy_names()[:1]},
    **ABLATIONS,
    **{name: (name, {}) for name in strategy_names()[1:]},
}
EXTERNAL_VARIANTS = ("ctgan",)


def ctgan_runs(epochs: int, ctgan_epochs: list[int] | int | None) -> list[tuple[str, int]]:
    """(result name, epochs) of each ctgan fit: one per distinct ``--ctgan-epochs`` value (in
    the order given), else one of ``epochs``."""
    if ctgan_epochs is None:
        values = [epochs]
    else:
        values = [ctgan_epochs] if isinstance(ctgan_epochs, int) else list(ctgan_epochs)
    return [(ctgan_name(epochs, n), n) for n in dict.fromkeys(values)]


def ctgan_name(epochs: int, ctgan_epochs: int | None) -> str:
    """The ctgan variant's name in the results: ``ctgan``, or ``ctgan-Nep`` when it trains
    another number of epochs than the library's variants."""
    return "ctgan" if ctgan_epochs in (None, epochs) else f"ctgan-{ctgan_epochs}ep"


def fit_library_variant(variant: str, seed: int, opts: dict,
                        setup: ScenarioSetup) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit one of :data:`VARIANTS`, sample, and return the rows and the fit measurements."""
    from bench.utility_curve import UtilityCurve
    from dagan_core import make_synthesizer
    from dagan_core.synthesizers.stopping import mean_heldout_f1

    n_rows = sum(len(d) for d in setup.parties.values())
    strategy, extra = VARIANTS[variant]
    stopping = {"patience": opts.get("patience") or 0, "max_seconds": opts.get("max_seconds")}
    synth = make_synthesizer(strategy, epochs=opts["epochs"], seed=seed, device=opts["device"],
                             **stopping, **extra)
    curve = None
    if opts["curve_every"]:
        curve = UtilityCurve(synth, every=opts["curve_every"], epochs=opts["epochs"],
                             n_rows=n_rows, test=setup.test, label=setup.label,
                             discrete_columns=setup.all_discrete, seed=seed)
    start = time.perf_counter()
    if curve:
        curve.start()
    synth.fit(setup.parties, label=setup.label, discrete_columns=setup.discrete,
              on_epoch_end=curve)
    curve_seconds = curve.seconds if curve else 0.0
    fit_seconds = time.perf_counter() - start - curve_seconds  # the curve is not training
    history = synth.history
    epoch_seconds = [h["seconds"] for h in history]  # the trainer's epochs, callback excluded
    start = time.perf_counter()
    # strict=False: a model that cannot make a party's label mix is scored on what it makes,
    # and the rows whose label differs from the asked one are counted against it.
    rows = synth.sample(n_rows, seed=seed + 1000, strict=False)
    sample_seconds = time.perf_counter() - start
    return rows, {
        "unmet_label_rows": int(rows.attrs.get("unmet_rows", 0)),
        "fit_seconds": fit_seconds,
        "seconds_per_epoch": float(np.mean(epoch_seconds)),
        "setup_seconds": fit_seconds - float(np.sum(epoch_seconds)),
        "sample_rows_per_s": n_rows / sample_seconds,
        "bytes_per_epoch": float(np.mean([h["bytes_exchanged"] for h in history])),
        "alpha_last": history[-1]["alpha"],
        "alpha_std_over_epochs": float(np.mean(np.std(
            [list(h["alpha"].values()) for h in history], axis=0))),
        "curve": curve.points if curve else None,
        "curve_seconds": curve_seconds,
        "epochs_run": len(history),
        "kept_epoch": (synth.model.stopping or {}).get("kept_epoch"),
        "stop_reason": (synth.model.stopping or {}).get("reason"),
        "fit_score_by_epoch": [h.get("fit_score") for h in history],
        "heldout_f1_by_epoch": [mean_heldout_f1(h.get("heldout_f1")) for h in history],
    }


def fit_ctgan_variant(seed: int, opts: dict, pooled: pd.DataFrame,
                      discrete_columns: list[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit the ctgan package's CTGAN on the pooled rows (no party column) and sample."""
    from bench.ctgan_reference import fit_and_sample_ctgan
    from dagan_core.synthesizers.base import resolve_device

    use_gpu = resolve_device(opts["device"]).type == "cuda"
    n_epochs = opts.get("ctgan_epochs") or opts["epochs"]
    fit = fit_and_sample_ctgan(pooled.drop(columns="party"), discrete_columns, len(pooled),
                               epochs=n_epochs, seed=seed, use_gpu=use_gpu)
    epochs = fit.epoch_seconds
    return fit.rows, {
        "epochs": n_epochs,
        "fit_seconds": fit.fit_seconds,
        "seconds_per_epoch": float(np.mean(epochs)) if epochs else float("nan"),
        "setup_seconds": fit.fit_seconds - sum(epochs) if epochs else float("nan"),
        "sample_rows_per_s": len(pooled) / fit.sample_seconds,
        # CTGAN cannot continue training, so it cannot be sampled between epochs: its curve is
        # the one point of its final rows, which the caller scores
        "curve": None,
    }
