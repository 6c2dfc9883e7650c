"""This process's memory: resident set now and at its peak, and torch's peak CUDA allocation.

No heavy imports (torch only inside :func:`peak_gpu_mb`), so a measured child process pays nothing
for importing this.
"""

from __future__ import annotations

import os
import resource
import sys

MB = 1e6  # the benchmark and the scaling runs report MB
MIB = 2**20  # the load test reports MiB


def peak_rss_bytes() -> int:
    """This process's peak resident memory since it started, in bytes.

    ``VmHWM`` of ``/proc/self/status`` belongs to the process's own memory map. ``ru_maxrss``
    (the fallback off Linux) does not serve in a child on Linux: the kernel carries the
    high-water mark over ``execve`` from the forked copy of the parent, so a child of a large
    process would report at least the parent's size.
    """
    try:  # Linux: VmHWM, in KiB
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, else KiB


def peak_rss_mb() -> float:
    """:func:`peak_rss_bytes` in MB (10^6 bytes)."""
    return peak_rss_bytes() / MB


def current_rss_bytes() -> int:
    """This process's resident memory now, in bytes (Linux)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_gpu_mb() -> float | None:
    """Peak CUDA memory allocated by torch in this process, in MB; None without CUDA use."""
    import torch

    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.cuda.max_memory_allocated() / MB
