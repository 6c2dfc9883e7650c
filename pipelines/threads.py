"""How many CPU threads the pipeline's compute steps use (training, sampling, evaluation).

A GAN epoch is a long chain of small matrix products; when torch runs them on more threads than
there are idle cores, every step waits for the slowest thread and an epoch can get ten times
slower (measured on 2 cores with another process busy on one: see docs/threads.md). So the
default leaves a core free and stays small:

- the step's ``threads`` run config field, if set;
- else ``DAGAN_THREADS`` (a whole number of at least 1);
- else ``min(usable cores - 1, 4)``, at least 1 (1 on a 2-core machine).

The chosen number is recorded on each materialization as ``threads``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "DAGAN_THREADS"
#: Most threads the default picks, whatever the machine.
DEFAULT_CAP = 4


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """``DAGAN_THREADS`` if set, else ``min(usable cores - 1, 4)`` and at least 1.

    Raises:
        ValueError: ``DAGAN_THREADS`` that is not a whole number of at least 1, naming it.
    """
    text = os.environ.get(ENV, "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{ENV} must be a whole number of at least 1, got {text!r}")
        return value
    return max(1, min(usable_cores() - 1, DEFAULT_CAP))


def resolve_threads(configured: int | None) -> int:
    """The configured number of threads, or the default when ``None``."""
    if configured is None:
        return default_threads()
    if configured < 1:
        raise ValueError(f"threads must be at least 1, got {configured}")
    return int(configured)


@contextmanager
def compute_threads(threads: int) -> Iterator[int]:
    """Run the block with ``threads`` torch and BLAS/OpenMP threads, then restore the previous
    torch setting (steps of one in-process run share the interpreter)."""
    import torch  # heavy: imported when a step runs, not when definitions load
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield threads
    finally:
        torch.set_num_threads(before)
