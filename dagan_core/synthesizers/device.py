"""Device selection."""

from __future__ import annotations

import torch

from dagan_core.errors import InvalidDataError


def resolve_device(name: str) -> torch.device:
    """Map "auto" | "cpu" | "cuda" to a device (auto picks CUDA when present)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidDataError("device='cuda' was asked for but no CUDA device is available")
    return torch.device(name)
