"""1 − cos(s, Ã): the local loss that matches the shape of the patch scores to the target."""

from __future__ import annotations

import torch

from trustir.agree.local.base import LOCAL_LOSSES, LocalOptions


@LOCAL_LOSSES.register("cos")
def cos_local(s: torch.Tensor, target: torch.Tensor, opts: LocalOptions) -> torch.Tensor:
    """Mean over pairs of ``1 - cos(s, Ã)`` (scale-free, so no temperature): ``(B, P) -> ()``."""
    return (1 - torch.nn.functional.cosine_similarity(s, target, dim=1)).mean()
