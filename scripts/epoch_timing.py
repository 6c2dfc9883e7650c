"""Seconds per epoch and sampling speed: DAGAN against the ctgan package on the same rows.

A thin wrapper of :mod:`dagan_core.epoch_timing`; ``--help`` lists the flags::

    python scripts/epoch_timing.py --device cpu --threads 2
"""

from dagan_core.epoch_timing import main

if __name__ == "__main__":
    raise SystemExit(main())
