"""What a training run reports: the per-epoch log line, the history's headline numbers, the
record saved beside the checkpoint and the differential-privacy metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from pipelines.metadata import json_value, md_table
from pipelines.plots import attention_weights, loss_curves


def class_counts(tables: Mapping[str, pd.DataFrame], label: str) -> dict[str, dict[str, int]]:
    """party -> label value -> rows (counts only, never rows)."""
    return {
        party: {
            str(k): int(v) for k, v in df[label].astype(str).value_counts().sort_index().items()
        }
        for party, df in tables.items()
    }


def epoch_logger(log: Any, epochs: int) -> Callable[[Any], None]:
    """An ``on_epoch_end`` callback that logs losses, attention and epsilon to the run's log."""

    def _log(stats: Any) -> None:
        critic = ", ".join(f"{p}={v:.3f}" for p, v in stats.critic_loss.items())
        alpha = ", ".join(f"{p}={v:.3f}" for p, v in stats.alpha.items())
        spent = getattr(stats, "dp_epsilon", None)
        dp = "" if spent is None else " dp_epsilon[" + ", ".join(
            f"{p}={v:.3f} (delta={stats.dp_delta[p]:.2g})" for p, v in spent.items()) + "]"
        log.info(
            f"epoch {stats.epoch + 1}/{epochs}: generator_loss={stats.generator_loss:.4f} "
            f"cond_loss={stats.cond_loss:.4f} critic_loss[{critic}] alpha[{alpha}]{dp} "
            f"fit_score={_fmt(getattr(stats, 'fit_score', None))} "
            f"({stats.seconds:.1f}s, {stats.bytes_exchanged} bytes)"
        )

    return _log


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def stopping_metadata(stopping: Mapping[str, Any] | None,
                      history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Why and when training stopped, the epoch whose generator the model holds, and the fit
    score of every epoch with the held-out F1 and marginal gap of each party it is made of."""
    if not stopping:
        return {}
    reasons = {"max_epochs": "the epoch maximum was reached",
               "no_improvement": f"no better fit score for {stopping.get('patience')} epochs",
               "max_steps": f"the budget of {stopping.get('max_steps')} steps was spent",
               "max_seconds": f"the budget of {stopping.get('max_seconds')} s was spent",
               "stopped_by_caller": "the caller stopped it"}
    scores = pd.DataFrame([{"epoch": int(h.get("epoch", i)) + 1, "fit_score": h.get("fit_score"),
                            **{f"heldout_f1[{p}]": v
                               for p, v in (h.get("heldout_f1") or {}).items()},
                            **{f"marginal_gap[{p}]": v
                               for p, v in (h.get("marginal_gap") or {}).items()}}
                           for i, h in enumerate(history)])
    kept = stopping.get("kept_epoch")
    return {
        "stop_reason": dg.MetadataValue.text(
            reasons.get(stopping.get("reason"), str(stopping.get("reason")))),
        "epochs_run": dg.MetadataValue.int(int(stopping.get("epochs_run") or 0)),
        "kept_epoch": dg.MetadataValue.int(-1 if kept is None else int(kept) + 1),
        "fit_score": dg.MetadataValue.text(str(stopping.get("score", ""))),
        "fit_score_by_epoch": md_table(scores),
    }


def history_summary(history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Headline numbers of a training history (the last epoch, totals)."""
    if not history:
        return {"epochs": 0}
    last = history[-1]
    return {
        "epochs": len(history),
        "final_generator_loss": last.get("generator_loss"),
        "final_cond_loss": last.get("cond_loss"),
        "final_critic_loss": last.get("critic_loss"),
        "final_alpha": last.get("alpha"),
        "final_dp_epsilon": last.get("dp_epsilon"),
        "seconds_per_epoch": sum(h.get("seconds", 0.0) for h in history) / len(history),
        "bytes_exchanged": sum(int(h.get("bytes_exchanged", 0)) for h in history),
    }


def training_record(
    config: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    label: str,
    discrete_columns: Sequence[str],
    seconds: float,
    history: Sequence[Mapping[str, Any]],
    left_out: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The sidecar saved next to a checkpoint: config, schema roles, party sizes, class counts,
    and the parties left out of training with the reason (``left_out``)."""
    counts = class_counts(tables, label)
    return {
        "strategy": config["strategy"],
        "config": dict(config),
        "label": label,
        "discrete_columns": list(discrete_columns),
        "columns": list(next(iter(tables.values())).columns),
        "parties": {p: {"rows": len(df), "class_counts": counts[p]} for p, df in tables.items()},
        "left_out": dict(left_out or {}),
        "training_seconds": seconds,
        "summary": history_summary(history),
    }


def dp_metadata(privacy: Mapping[str, Any] | None, history: Sequence[Mapping[str, Any]]
                ) -> dict[str, Any]:
    """Differential-privacy figures of a fit as materialization metadata (empty when DP is off).

    ``dp_epsilon`` / ``dp_delta``: per party, the epsilon its critic spent over the whole fit and
    the delta it holds at; ``dp_epsilon_by_epoch``: per epoch, each party's epsilon so far.
    """
    if privacy is None or "epsilon" not in privacy:
        return {}
    by_epoch = pd.DataFrame([{"epoch": int(h.get("epoch", i)) + 1, **(h.get("dp_epsilon") or {})}
                             for i, h in enumerate(history)])
    return {
        "dp_epsilon": json_value(privacy["epsilon"]),
        "dp_delta": json_value(privacy["delta"]),
        "dp_noise_multiplier": dg.MetadataValue.float(float(privacy["noise_multiplier"])),
        "dp_max_grad_norm": dg.MetadataValue.float(float(privacy["max_grad_norm"])),
        "dp_epsilon_by_epoch": md_table(by_epoch),
    }


def cells_metadata(cells: Mapping[str, Any] | None) -> dict[str, Any]:
    """The end-of-fit probe: per (party, label class) cell the share of probe rows made with
    that class (``cell_probe``) and the cells with none (``unproducible_cells``)."""
    if cells is None:
        return {}
    table = pd.DataFrame(
        [(party, value, share) for party, rates in cells["rates"].items()
         for value, share in rates.items()],
        columns=["party", "label_value", "share_of_probe_rows"])
    return {
        "unproducible_cells": json_value(list(cells["unproducible"])),
        "cell_probe": md_table(table),
    }


def fit_metadata(synth: Any, record: Mapping[str, Any], path: Any, seconds: float,
                 resumed_from_epoch: int) -> dict[str, Any]:
    """What ``dagan_model`` shows of a fit, with simulated or remote parties alike: checkpoint,
    configuration, history, party sizes, plots, the cell probe, DP and why training stopped."""
    return {
        "checkpoint": dg.MetadataValue.path(str(path)),
        "config": json_value(record["config"]),
        "history_summary": json_value(history_summary(synth.history)),
        "party_rows": json_value({p: v["rows"] for p, v in record["parties"].items()}),
        "training_seconds": round(seconds, 2),
        "resumed_from_epoch": resumed_from_epoch,
        "loss_curves": loss_curves(synth.history),
        "attention_weights": attention_weights(synth.history),
        **cells_metadata(synth.model.cells),
        **dp_metadata(synth.privacy, synth.history),
        **stopping_metadata(synth.model.stopping, synth.history),
    }
