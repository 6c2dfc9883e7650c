"""One member's slice of an optimizer's state over a bank of critics.

A party's checkpoint holds its own critic and its own Adam moments in the format of a one-member
bank, whether its critic ran alone or in a bank shared with co-located parties; these helpers cut
that slice out of, and write it back into, the optimizer's per-parameter state.
"""

from __future__ import annotations

import torch
from torch import nn


def member_optimizer_state(optimizer: torch.optim.Optimizer, module: nn.Module,
                           k: int) -> dict[str, dict[str, torch.Tensor]]:
    """Per-parameter state of member ``k`` (keyed by parameter name; empty before any step).

    Tensors shaped like the parameter are sliced to ``[k:k+1]``; scalars (Adam's step count,
    shared by all members) are copied.
    """
    out: dict[str, dict[str, torch.Tensor]] = {}
    for name, p in module.named_parameters():
        state = optimizer.state.get(p, {})
        out[name] = {key: (v[k:k + 1].detach().clone() if v.dim() else v.detach().clone())
                     for key, v in state.items() if torch.is_tensor(v)}
    return out


@torch.no_grad()
def load_member_optimizer_state(optimizer: torch.optim.Optimizer, module: nn.Module, k: int,
                                state: dict[str, dict[str, torch.Tensor]]) -> None:
    """Write what :func:`member_optimizer_state` returned into member ``k``'s slice."""
    for name, p in module.named_parameters():
        saved = state.get(name) or {}
        current = optimizer.state[p]
        for key, v in saved.items():
            if v.dim():
                if key not in current:
                    current[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
                current[key][k:k + 1].copy_(v)
            else:  # as torch places it: on the parameter's device for fused Adam, else CPU
                on_param = optimizer.defaults.get("fused") or optimizer.defaults.get("capturable")
                current[key] = v.detach().clone().to(p.device if on_param else "cpu")
