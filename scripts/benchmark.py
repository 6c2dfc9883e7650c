"""Compare DAGAN with its baselines on a dual-imbalance scenario of a real table.

A thin wrapper of :mod:`bench.benchmark` (the same as ``dagan bench``); the flags are
documented there and by ``--help``::

    python scripts/benchmark.py --dataset adult --seeds 0 1 2 --epochs 30 --jobs 2
"""

import sys
from pathlib import Path

# the bench package of this checkout (it sits next to scripts/), installed or not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.benchmark import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
