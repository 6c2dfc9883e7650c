"""Utility against training wall time per variant, from benchmark JSONs of one scenario.

A thin wrapper of :mod:`bench.time_to_quality`; the flags are documented there and by
``--help``::

    python scripts/time_to_quality.py results/tmp/adult_K5_r20_b0.1_e30.json
"""

import sys
from pathlib import Path

# the bench package of this checkout (it sits next to scripts/), installed or not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.time_to_quality import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
