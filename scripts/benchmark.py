"""Compare DAGAN with its baselines on a dual-imbalance scenario of a real table.

A thin wrapper of :mod:`dagan_core.benchmark` (the same as ``dagan bench``); the flags are
documented there and by ``--help``::

    python scripts/benchmark.py --dataset adult --seeds 0 1 2 --epochs 30 --jobs 2
"""

from dagan_core.benchmark import main

if __name__ == "__main__":
    raise SystemExit(main())
