"""Run the whole pipeline headless on the demo landing area, then query the warehouse.

A thin wrapper of :mod:`pipelines.demo` (the same as ``dagan demo``)::

    .venv/bin/python scripts/run_demo.py [--version demo] [--epochs 10]
"""

import sys

from pipelines.demo import main

if __name__ == "__main__":
    sys.exit(main())
