"""This process's resident memory, for load measurements (no heavy imports)."""

from __future__ import annotations

import os
import resource


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started, in MiB.

    ``VmHWM`` of ``/proc/self/status`` belongs to the process's own memory map. ``ru_maxrss``
    (the fallback off Linux) does not serve in a child: Linux carries the high-water mark over
    ``execve`` from the forked copy of the parent, so a child of a large process would report at
    least the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
