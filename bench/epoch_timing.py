"""Seconds per training epoch and sampling speed: DAGAN (batched or one-by-one party critics)
against the ``ctgan`` package on the same pooled rows and batch size.

Adult, K=5, size ratio 20, Dirichlet β=0.1 (seed 0): each variant trains ``--epochs`` epochs
(the first is reported but left out of the mean, as a warm-up), then samples ``--sample-rows``
rows (after a 1,000-row warm-up). ``ctgan`` sees the parties' rows pooled, with its defaults
(batch 500, pac 10), timed per epoch of its training loop only.

    python scripts/epoch_timing.py --device cpu --threads 2
    python scripts/epoch_timing.py --device cuda --variants dagan-batched dagan-sequential ctgan

Writes ``<name>.json`` and ``<name>.md`` to ``--out`` (default ``results/tmp/speed``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from bench.options import add_data_dir, add_out, refuse_tracked
from bench.run_info import run_info
from bench.scenario import set_up

VARIANTS = ("dagan-batched", "dagan-sequential", "ctgan")


def time_variant(variant: str, parties: dict[str, pd.DataFrame], discrete: list[str],
                 label: str, *, epochs: int, sample_rows: int, device: str) -> dict[str, Any]:
    """Epoch seconds and sampling rows/s of one variant."""
    if variant == "ctgan":
        from bench.ctgan_reference import fit_and_sample_ctgan

        pooled = pd.concat(list(parties.values()), ignore_index=True)
        fit = fit_and_sample_ctgan(pooled, [*discrete, label], sample_rows, epochs=epochs,
                                   seed=0, use_gpu=device != "cpu")
        epoch_s, sample_s = fit.epoch_seconds, fit.sample_seconds
    else:
        from dagan_core import make_synthesizer

        mode = "on" if variant == "dagan-batched" else "off"
        synth = make_synthesizer("dagan", epochs=epochs, seed=0, device=device,
                                 batched_critics=mode)
        synth.fit(parties, label=label, discrete_columns=discrete)
        epoch_s = [h["seconds"] for h in synth.history]
        synth.sample(1000, seed=1)
        start = time.perf_counter()
        synth.sample(sample_rows, seed=1)
        sample_s = time.perf_counter() - start
    return {"variant": variant, "epoch_seconds": epoch_s,
            "mean_epoch_seconds": float(np.mean(epoch_s[1:] if len(epoch_s) > 1 else epoch_s)),
            "sample_rows_per_second": sample_rows / sample_s}


def markdown(payload: dict[str, Any]) -> str:
    """The run as a small Markdown table with its command, date and machine."""
    m = payload["machine"]
    lines = [f"### Epoch time and sampling speed, Adult K=5 ({payload['date']})", "",
             f"Command: `{payload['command']}`; {m['cpu_count']} cores, {m['torch_threads']} "
             f"torch threads, torch {m['torch']}, device {payload['settings']['device']}.", "",
             "| variant | s/epoch (mean after the first) | epochs (s) | sample rows/s |",
             "|---|---|---|---|"]
    for r in payload["results"]:
        epochs = ", ".join(f"{s:.2f}" for s in r["epoch_seconds"])
        lines.append(f"| {r['variant']} | {r['mean_epoch_seconds']:.2f} | {epochs} | "
                     f"{r['sample_rows_per_second']:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, prog: str = "scripts/epoch_timing.py") -> int:
    """Command-line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--sample-rows", type=int, default=200_000)
    p.add_argument("--max-rows", type=int, default=None,
                   help="a stratified subsample of Adult's training rows (default: all)")
    add_data_dir(p, "--datasets-dir")
    add_out(p, "speed")
    p.add_argument("--name", default=None, help="output stem (default: epoch_timing_<device>)")
    opts = p.parse_args(argv)
    name = opts.name or f"epoch_timing_{opts.device}"
    refuse_tracked(opts.out, [f"{name}.json", f"{name}.md"])
    import torch

    torch.set_num_threads(opts.threads)
    setup = set_up("adult", opts.data_dir, seed=0, max_rows=opts.max_rows)
    parties, discrete, label = setup.parties, setup.discrete, setup.label
    results = []
    for variant in opts.variants:
        results.append(time_variant(variant, parties, discrete, label, epochs=opts.epochs,
                                    sample_rows=opts.sample_rows, device=opts.device))
        sys.stderr.write(json.dumps(results[-1]) + "\n")
    payload = {**run_info(prog, argv, vars(opts)), "results": results}
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / f"{name}.json").write_text(json.dumps(payload, indent=1) + "\n")
    report = markdown(payload)
    (opts.out / f"{name}.md").write_text(report)
    sys.stdout.write(report)
    return 0
