"""The local-loss registry: ``LOCAL_LOSSES.get(name)(s, target, options) -> scalar``.

``s`` (B, P) is AGREE's per-patch similarity of each positive pair (mean over query tokens of
<E_q, E_d^j>), ``target`` (B, P) the attention target Ã (non-negative, rows summing to 1). A loss
sees these tensors only, never the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from trustir.registry import Registry


@dataclass(frozen=True)
class LocalOptions:
    """Temperatures and the top-K share of the local losses (``agree`` params)."""

    target_temperature: float = 0.1
    score_temperature: float = 0.1
    top_k_percent: float = 10.0


LocalLoss = Callable[[torch.Tensor, torch.Tensor, LocalOptions], torch.Tensor]
LOCAL_LOSSES: Registry[LocalLoss] = Registry("agree local loss", autoload="trustir.agree.local")


def normalised_target(target: torch.Tensor) -> torch.Tensor:
    """Ã / max_j Ã per row, in [0, 1]: attention masses of a few hundredths would make
    softmax(Ã) uniform at any usable temperature, so the target is put on a unit scale first."""
    return target / target.amax(dim=1, keepdim=True).clamp(min=1e-12)
