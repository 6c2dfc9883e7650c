"""Measurement tools around the dagan_core library: the benchmark against the baselines, the
scaling runs, the FLOP count and the epoch timing, with what they share (the real benchmark
tables, the dual-imbalance scenario set-up, the ``ctgan`` reference, memory readings, reports).

Entry points: ``dagan bench|scaling|flops`` and ``scripts/benchmark.py``, ``scripts/scaling.py``,
``scripts/flops.py``, ``scripts/epoch_timing.py``.
"""
