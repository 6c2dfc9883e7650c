"""FLOP count of one DAGAN training epoch against a replay of its matmuls.

A thin wrapper of :mod:`bench.flops` (the same as ``dagan flops``); the flags are
documented there and by ``--help``::

    python scripts/flops.py --device cpu
"""

import sys
from pathlib import Path

# the bench package of this checkout (it sits next to scripts/), installed or not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.flops import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
