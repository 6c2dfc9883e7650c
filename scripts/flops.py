"""FLOP count of one DAGAN training epoch against a replay of its matmuls.

A thin wrapper of :mod:`dagan_core.flops` (the same as ``dagan flops``); the flags are
documented there and by ``--help``::

    python scripts/flops.py --device cpu
"""

from dagan_core.flops import main

if __name__ == "__main__":
    raise SystemExit(main())
