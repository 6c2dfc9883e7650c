"""Run or print the harder scenarios of the benchmark by name (see :mod:`bench.grid`)::

    python scripts/harder_grid.py --list
    python scripts/harder_grid.py rare-one-party --print --seeds 0 1 2 --epochs 40
"""

import sys
from pathlib import Path

# the bench package of this checkout (it sits next to scripts/), installed or not
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.grid import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
