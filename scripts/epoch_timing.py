"""Seconds per epoch and sampling speed: DAGAN against the ctgan package on the same rows.

A thin wrapper of :mod:`bench.epoch_timing`; ``--help`` lists the flags::

    python scripts/epoch_timing.py --device cpu --threads 2
"""

import sys
from pathlib import Path

# the bench package of this checkout (it sits next to scripts/), installed or not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.epoch_timing import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
