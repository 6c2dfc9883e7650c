"""Remote parties for the pipeline's remote-mode tests: each a spawned process serving a slice
of the demo's landing files with the pipeline's contract columns; and a recorder of the files
this (the coordinator's) process opens."""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path


def serve_csv(name: str, csv: str, tls, fingerprint: str, report: dict, queue) -> None:
    """Serve the party whose rows are ``csv`` until killed; put its address on ``queue``."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    import pandas as pd
    import torch

    from dagan_core.federation.remote.party_host import serve_party
    from pipelines.contracts import model_columns

    torch.set_num_threads(1)
    columns = model_columns()
    serve_party(pd.read_csv(csv), name, columns.label, list(columns.discrete_columns), tls,
                "127.0.0.1:0", None, fingerprint, report=report,
                on_ready=lambda address: queue.put(address))


class PartyProcesses:
    """One spawned ``serve_csv`` process per party; ``endpoints``: party -> address."""

    def __init__(self, certs, csvs: dict[str, Path], fingerprint: str, reports: dict):
        ctx = multiprocessing.get_context("spawn")
        queues = {name: ctx.Queue() for name in csvs}
        self.procs = {name: ctx.Process(target=serve_csv, daemon=True, args=(
            name, str(csv), certs.parties[name], fingerprint, reports[name], queues[name]))
            for name, csv in csvs.items()}
        for proc in self.procs.values():
            proc.start()
        self.endpoints = {name: queues[name].get(timeout=120) for name in csvs}

    def stop(self) -> None:
        """SIGKILL every party (they keep no state in these tests)."""
        for proc in self.procs.values():
            proc.kill()
        for proc in self.procs.values():
            proc.join(10)


class OpenedUnder:
    """Records every file this process opens under the watched folders (an audit hook, which
    cannot be removed: it records only while ``folders`` is set)."""

    def __init__(self) -> None:
        self.folders: tuple[str, ...] = ()
        self.opened: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if self.folders and event == "open" and isinstance(args[0], str) \
                and args[0].startswith(self.folders):
            self.opened.append(args[0])

    def watch(self, *folders: Path) -> None:
        self.folders, self.opened = tuple(str(f) for f in folders), []


OPENED = OpenedUnder()
