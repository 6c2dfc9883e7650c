"""Time per training epoch as the number of parties and the number of rows grow.

A thin wrapper of :mod:`dagan_core.scaling` (the same as ``dagan scaling``); the flags are
documented there and by ``--help``::

    python scripts/scaling.py --strategies dagan mdgan ctgan --epochs 2
"""

from dagan_core.scaling import main

if __name__ == "__main__":
    raise SystemExit(main())
