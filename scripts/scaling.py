"""Time per training epoch as the number of parties and the number of rows grow.

A thin wrapper of :mod:`bench.scaling` (the same as ``dagan scaling``); the flags are
documented there and by ``--help``::

    python scripts/scaling.py --strategies dagan mdgan ctgan --epochs 2
"""

import sys
from pathlib import Path

# the bench package of this checkout (it sits next to scripts/), installed or not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scaling import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
